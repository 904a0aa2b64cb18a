"""The product catalogue of the demo trader: 39 commodity and specialty chemicals.

Names are the canonical catalogue names used everywhere (orders, invoices, stock items,
ground truth). Aliases are what customers actually write: formulas, abbreviations, trade
names, Hindi/Hinglish names and common misspellings. HSN codes are the 8-digit Indian
customs tariff codes used on GST invoices; GST rates are in percent.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Spec:
    """One QC parameter with its acceptance limits (None = no limit on that side)."""

    name: str
    unit: str
    min: float | None
    max: float | None


@dataclass(frozen=True)
class Product:
    """A catalogue item as the trader stocks and sells it."""

    code: str
    name: str
    aliases: tuple[str, ...]
    grade: str
    hsn: str
    gst_rate: float
    unit: str
    pack: str
    pack_size_kg: float
    stock_group: str
    base_price_per_kg: float
    specs: tuple[Spec, ...]


def _p(
    code: str,
    name: str,
    aliases: tuple[str, ...],
    grade: str,
    hsn: str,
    gst_rate: float,
    pack: str,
    pack_size_kg: float,
    stock_group: str,
    price: float,
    specs: tuple[Spec, ...],
) -> Product:
    return Product(
        code=code,
        name=name,
        aliases=aliases,
        grade=grade,
        hsn=hsn,
        gst_rate=gst_rate,
        unit="kg",
        pack=pack,
        pack_size_kg=pack_size_kg,
        stock_group=stock_group,
        base_price_per_kg=price,
        specs=specs,
    )


S = Spec
INORG = "Inorganic Chemicals"
ALKALI = "Alkalis"
ACIDS = "Acids"
SOLV = "Solvents"
SURF = "Surfactants"
POLY = "Polymers"
PIGM = "Pigments"
FILL = "Fillers"
ORG = "Organic Chemicals"

# fmt: off
PRODUCTS: tuple[Product, ...] = (
    _p(
        "ZNO", "Zinc Oxide",
        ("ZnO", "zinc white", "zinc oxide IP", "zinc oxide 99.5%", "Zinc Oxcide", "jasta oxide", "Zink Oxide"),
        "Rubber Grade 99.5%", "28170010", 18.0, "bag", 25.0, PIGM, 262.0,
        (S("Purity (as ZnO)", "%", 99.5, None), S("Loss on heating", "%", None, 0.5),
         S("Lead (Pb)", "ppm", None, 20.0), S("Residue on 325 mesh", "%", None, 0.1)),
    ),
    _p(
        "TIO2R", "Titanium Dioxide Rutile",
        ("TiO2 rutile", "TiO2 R", "rutile TiO2", "titanium dioxide R-902", "Ti02 rutile", "titanium white rutile", "Titanium Dioxide R"),
        "Pigment Grade", "32061190", 18.0, "bag", 25.0, PIGM, 305.0,
        (S("TiO2 content", "%", 93.0, None), S("Moisture", "%", None, 0.5),
         S("Oil absorption", "g/100g", None, 20.0), S("pH", "", 6.5, 8.5)),
    ),
    _p(
        "TIO2A", "Titanium Dioxide Anatase",
        ("TiO2 anatase", "anatase TiO2", "TiO2 A", "titanium dioxide anatase B101", "Ti02 anatase", "Titanium Dioxide Anatas"),
        "Non-pigmentary", "28230010", 18.0, "bag", 25.0, PIGM, 212.0,
        (S("TiO2 content", "%", 98.0, None), S("Moisture", "%", None, 0.5),
         S("Whiteness", "%", 94.0, None), S("pH", "", 6.5, 8.0)),
    ),
    _p(
        "CSF", "Caustic Soda Flakes",
        ("NaOH flakes", "caustic flakes", "sodium hydroxide flakes", "caustic soda", "Costic Soda Flakes", "kostik soda", "NaOH 98%"),
        "Technical 98%", "28151110", 18.0, "bag", 50.0, ALKALI, 52.0,
        (S("Total alkalinity (as NaOH)", "%", 98.0, None), S("Sodium carbonate", "%", None, 0.6),
         S("Sodium chloride", "%", None, 0.05), S("Iron (Fe)", "ppm", None, 10.0)),
    ),
    _p(
        "CSL", "Caustic Soda Lye 48%",
        ("caustic lye", "NaOH lye", "lye 48%", "caustic soda lye", "sodium hydroxide solution 48%", "Caustic Lye 48", "liquid caustic"),
        "Membrane Grade", "28151200", 18.0, "tanker", 20000.0, ALKALI, 29.0,
        (S("NaOH content", "%", 47.5, 49.0), S("Sodium chloride", "%", None, 0.02),
         S("Iron (Fe)", "ppm", None, 5.0)),
    ),
    _p(
        "SAL", "Soda Ash Light",
        ("soda ash", "sodium carbonate light", "Na2CO3 light", "soda ash lite", "light soda ash", "washing soda", "sajji khar"),
        "Light 99.2%", "28362010", 18.0, "bag", 50.0, ALKALI, 32.0,
        (S("Total alkalinity (as Na2CO3)", "%", 99.2, None), S("Sodium chloride", "%", None, 0.5),
         S("Bulk density", "g/cc", 0.5, 0.65), S("Iron (Fe)", "ppm", None, 20.0)),
    ),
    _p(
        "SAD", "Soda Ash Dense",
        ("dense soda ash", "sodium carbonate dense", "Na2CO3 dense", "soda ash heavy", "Soda Ash Dence"),
        "Dense 99.2%", "28362020", 18.0, "bag", 50.0, ALKALI, 34.0,
        (S("Total alkalinity (as Na2CO3)", "%", 99.2, None), S("Sodium chloride", "%", None, 0.5),
         S("Bulk density", "g/cc", 0.9, 1.1)),
    ),
    _p(
        "SBC", "Sodium Bicarbonate",
        ("sodium bicarb", "baking soda", "bicarb", "NaHCO3", "meetha soda", "khane ka soda", "Sodium Bi Carbonate", "soda bicarb"),
        "Food Grade IP", "28363000", 18.0, "bag", 50.0, INORG, 39.0,
        (S("Assay (as NaHCO3)", "%", 99.0, 100.5), S("Moisture", "%", None, 0.25),
         S("pH (1% solution)", "", 8.0, 8.6), S("Arsenic (As)", "ppm", None, 3.0)),
    ),
    _p(
        "CAM", "Citric Acid Monohydrate",
        ("citric acid mono", "CAM", "citric monohydrate", "nimbu sat", "citric acid", "Citric Acid Mono Hydrate", "sitric acid"),
        "Food Grade BP", "29181400", 18.0, "bag", 25.0, ACIDS, 76.0,
        (S("Assay", "%", 99.5, 100.5), S("Moisture", "%", 7.5, 9.0),
         S("Sulphated ash", "%", None, 0.05)),
    ),
    _p(
        "CAA", "Citric Acid Anhydrous",
        ("citric anhydrous", "CAA", "anhydrous citric acid", "citric acid anhy", "Citric Acid Anhydrus"),
        "Food Grade BP", "29181400", 18.0, "bag", 25.0, ACIDS, 86.0,
        (S("Assay", "%", 99.5, 100.5), S("Moisture", "%", None, 0.5),
         S("Sulphated ash", "%", None, 0.05)),
    ),
    _p(
        "STA", "Stearic Acid",
        ("stearic", "octadecanoic acid", "stearic acid triple pressed", "stearic acid TP", "Steric Acid", "stearine"),
        "Rubber Grade", "38231100", 18.0, "bag", 25.0, ORG, 126.0,
        (S("Acid value", "mg KOH/g", 200.0, 212.0), S("Iodine value", "g I2/100g", None, 7.0),
         S("Titre", "degC", 53.0, 56.0)),
    ),
    _p(
        "ZNST", "Zinc Stearate",
        ("zinc stearate powder", "Zn stearate", "ZnSt", "zinc sterate", "Zinc Stearate Powder"),
        "Technical", "29157030", 18.0, "bag", 20.0, ORG, 176.0,
        (S("Zinc content", "%", 10.0, 11.0), S("Free fatty acid", "%", None, 1.0),
         S("Moisture", "%", None, 0.5)),
    ),
    _p(
        "PCC", "Calcium Carbonate Precipitated",
        ("PCC", "CaCO3", "precipitated calcium carbonate", "calcium carbonate", "calcium carb", "Calcium Carbonet", "chalk powder PCC"),
        "Light IP", "28365000", 18.0, "bag", 25.0, FILL, 22.0,
        (S("Assay (as CaCO3)", "%", 98.0, None), S("Moisture", "%", None, 0.5),
         S("Bulk density", "g/cc", 0.3, 0.45), S("Whiteness", "%", 95.0, None)),
    ),
    _p(
        "PSIL", "Precipitated Silica",
        ("silica", "silica powder", "SiO2", "precipitated silica ZS", "white carbon", "Precip Silica", "Precipitated Silika"),
        "Rubber Grade", "28112200", 18.0, "bag", 25.0, FILL, 76.0,
        (S("SiO2 content", "%", 90.0, None), S("Loss on heating", "%", 4.0, 8.0),
         S("pH (5% slurry)", "", 6.0, 7.5), S("BET surface area", "m2/g", 160.0, 190.0)),
    ),
    _p(
        "CBN330", "Carbon Black N330",
        ("carbon black", "N330", "N-330", "HAF black", "CB N330", "kala carbon", "Carbon Blak N330"),
        "N330 HAF", "28030010", 18.0, "bag", 25.0, PIGM, 112.0,
        (S("Iodine adsorption", "g/kg", 77.0, 87.0), S("DBP absorption", "cc/100g", 97.0, 107.0),
         S("Heating loss", "%", None, 1.5), S("Ash content", "%", None, 0.5)),
    ),
    _p(
        "HP50", "Hydrogen Peroxide 50%",
        ("H2O2", "H2O2 50%", "hydrogen peroxide", "peroxide 50", "hydro peroxide", "Hydrogen Peroxyde 50%"),
        "Technical 50% w/w", "28470000", 18.0, "carboy", 35.0, INORG, 39.0,
        (S("H2O2 content", "% w/w", 49.5, 51.0), S("Free acidity (as H2SO4)", "%", None, 0.05),
         S("Stability", "%", 97.0, None)),
    ),
    _p(
        "SUL98", "Sulphuric Acid 98%",
        ("H2SO4", "sulfuric acid", "sulphuric acid", "oil of vitriol", "gandhak ka tezab", "Sulphuric 98", "Sulfuric Acid 98"),
        "Commercial 98%", "28070010", 18.0, "carboy", 50.0, ACIDS, 12.0,
        (S("H2SO4 content", "%", 98.0, 98.8), S("Iron (Fe)", "ppm", None, 50.0),
         S("Residue on ignition", "%", None, 0.02)),
    ),
    _p(
        "HCL33", "Hydrochloric Acid 33%",
        ("HCl", "HCl 33%", "muriatic acid", "hydrochloric acid", "namak ka tezab", "Hydrocloric Acid", "HCL acid"),
        "Commercial 33%", "28061000", 18.0, "carboy", 35.0, ACIDS, 8.5,
        (S("HCl content", "% w/w", 32.0, 34.0), S("Iron (Fe)", "ppm", None, 10.0),
         S("Free chlorine", "ppm", None, 20.0)),
    ),
    _p(
        "IPA", "Isopropyl Alcohol",
        ("IPA", "isopropanol", "2-propanol", "iso propyl alcohol", "isopropyl", "rubbing alcohol", "Isopropyl Alchohol"),
        "99.8% min", "29051220", 18.0, "drum", 160.0, SOLV, 106.0,
        (S("Purity (GC)", "%", 99.8, None), S("Moisture", "%", None, 0.1),
         S("Acidity (as acetic acid)", "%", None, 0.002), S("Non-volatile matter", "%", None, 0.002)),
    ),
    _p(
        "ACE", "Acetone",
        ("dimethyl ketone", "propanone", "DMK", "acetone 99.5", "Acetone Tech", "Acitone"),
        "99.5% min", "29141100", 18.0, "drum", 160.0, SOLV, 79.0,
        (S("Purity (GC)", "%", 99.5, None), S("Moisture", "%", None, 0.3),
         S("Non-volatile matter", "%", None, 0.005)),
    ),
    _p(
        "TOL", "Toluene",
        ("toluol", "methylbenzene", "toluene 99.5", "Toluen", "toulene"),
        "Nitration Grade", "29023000", 18.0, "drum", 175.0, SOLV, 76.0,
        (S("Purity (GC)", "%", 99.5, None), S("Benzene", "ppm", None, 500.0),
         S("Distillation range", "degC", 109.0, 112.0)),
    ),
    _p(
        "MEOH", "Methanol",
        ("methyl alcohol", "MeOH", "wood alcohol", "methanol 99.85", "Methonol", "methenol"),
        "99.85% min", "29051100", 18.0, "drum", 160.0, SOLV, 31.0,
        (S("Purity (GC)", "%", 99.85, None), S("Moisture", "%", None, 0.1),
         S("Acidity (as HCOOH)", "%", None, 0.003)),
    ),
    _p(
        "MEG", "Mono Ethylene Glycol",
        ("MEG", "ethylene glycol", "monoethylene glycol", "mono ethylene glycol fibre grade", "Mono Ethelene Glycol", "glycol"),
        "Fibre Grade", "29053100", 18.0, "drum", 230.0, SOLV, 56.0,
        (S("Purity", "%", 99.8, None), S("Moisture", "%", None, 0.1),
         S("Diethylene glycol", "%", None, 0.08)),
    ),
    _p(
        "GLY", "Glycerine 99.5%",
        ("glycerin", "glycerol", "glycerine IP", "refined glycerine", "glycerine 99.5", "glisrin", "Glycerene"),
        "IP 99.5%", "29054500", 18.0, "drum", 250.0, ORG, 112.0,
        (S("Assay (as glycerol)", "%", 99.5, None), S("Moisture", "%", None, 0.5),
         S("Sulphated ash", "%", None, 0.01), S("Colour (APHA)", "Hazen", None, 10.0)),
    ),
    _p(
        "PVC67", "PVC Resin K67",
        ("PVC resin", "PVC K67", "PVC K-67", "poly vinyl chloride resin", "PVC suspension resin", "SG5 PVC", "P.V.C. resin K 67"),
        "Suspension K67", "39041010", 18.0, "bag", 25.0, POLY, 81.0,
        (S("K value", "", 66.0, 68.0), S("Volatile matter", "%", None, 0.3),
         S("Bulk density", "g/cc", 0.5, 0.6)),
    ),
    _p(
        "SLES70", "Sodium Lauryl Ether Sulphate 70%",
        ("SLES", "SLES 70%", "sodium laureth sulphate", "sodium lauryl ether sulfate", "SLES 2EO", "Sodium Lauryl Ether Sulphate"),
        "70% Paste", "34023900", 18.0, "drum", 220.0, SURF, 96.0,
        (S("Active matter", "%", 68.0, 72.0), S("pH (1% solution)", "", 7.0, 9.5),
         S("Unsulphated matter", "%", None, 3.0), S("Dioxane", "ppm", None, 30.0)),
    ),
    _p(
        "LABSA", "Linear Alkyl Benzene Sulphonic Acid",
        ("LABSA", "LABSA 90%", "acid slurry", "LAS", "linear alkyl benzene sulfonic acid", "DDBSA", "Labsa 96"),
        "96% min", "34023100", 18.0, "drum", 220.0, SURF, 126.0,
        (S("Active matter", "%", 96.0, None), S("Free oil", "%", None, 2.0),
         S("Free sulphuric acid", "%", None, 1.5), S("Colour (Klett)", "", None, 30.0)),
    ),
    _p(
        "SSA", "Sodium Sulphate Anhydrous",
        ("sodium sulphate", "glauber salt anhydrous", "salt cake", "Na2SO4", "sodium sulfate anhydrous", "Sodium Sulphet"),
        "Detergent Grade 99%", "28331100", 18.0, "bag", 50.0, INORG, 12.5,
        (S("Assay (as Na2SO4)", "%", 99.0, None), S("Moisture", "%", None, 0.2),
         S("pH (5% solution)", "", 6.0, 8.0), S("Whiteness", "%", 90.0, None)),
    ),
    _p(
        "MGO", "Magnesium Oxide",
        ("MgO", "magnesia", "light magnesium oxide", "magnesium oxide light", "calcined magnesia", "Magnisium Oxide"),
        "Light IP", "25199040", 18.0, "bag", 25.0, INORG, 96.0,
        (S("Assay (as MgO)", "%", 96.0, None), S("Loss on ignition", "%", None, 8.0),
         S("Calcium (as CaO)", "%", None, 1.1), S("Iodine value", "mg/g", 25.0, 60.0)),
    ),
    _p(
        "ATH", "Aluminium Hydroxide",
        ("ATH", "alumina trihydrate", "aluminum hydroxide", "hydrated alumina", "Al(OH)3", "Aluminium Hydroxide Powder"),
        "Fine Precipitated", "28183000", 18.0, "bag", 25.0, FILL, 42.0,
        (S("Al2O3 content", "%", 64.5, None), S("Moisture", "%", None, 0.5),
         S("Whiteness", "%", 96.0, None)),
    ),
    _p(
        "SHMP", "Sodium Hexametaphosphate",
        ("SHMP", "sodium hexa meta phosphate", "calgon", "hexametaphosphate", "sodium polyphosphate", "Sodium Hexa Metaphosphate"),
        "Technical 68%", "28353990", 18.0, "bag", 50.0, INORG, 116.0,
        (S("Total P2O5", "%", 68.0, None), S("Inactive P2O5", "%", None, 7.5),
         S("pH (1% solution)", "", 5.8, 7.3), S("Water insolubles", "%", None, 0.05)),
    ),
    _p(
        "BORAX", "Borax Decahydrate",
        ("borax", "sodium borate", "borax powder", "suhaga", "sodium tetraborate decahydrate", "Boraks"),
        "Technical 99.5%", "28401900", 18.0, "bag", 25.0, INORG, 72.0,
        (S("Assay (as Na2B4O7.10H2O)", "%", 99.5, None), S("Chloride (Cl)", "ppm", None, 70.0),
         S("Sulphate (SO4)", "ppm", None, 200.0)),
    ),
    _p(
        "BORIC", "Boric Acid",
        ("H3BO3", "boric", "boracic acid", "orthoboric acid", "boric acid powder", "Borik Acid"),
        "Technical 99.5%", "28100020", 18.0, "bag", 25.0, ACIDS, 92.0,
        (S("Assay (as H3BO3)", "%", 99.5, 100.5), S("Sulphate (SO4)", "ppm", None, 500.0),
         S("Iron (Fe)", "ppm", None, 10.0)),
    ),
    _p(
        "KOHF", "Potassium Hydroxide Flakes",
        ("KOH", "KOH flakes", "caustic potash", "caustic potash flakes", "potassium hydroxide", "Potasium Hydroxide"),
        "Technical 90%", "28152000", 18.0, "bag", 25.0, ALKALI, 106.0,
        (S("KOH content", "%", 90.0, None), S("Potassium carbonate", "%", None, 0.5),
         S("Chloride (Cl)", "%", None, 0.01)),
    ),
    _p(
        "SMBS", "Sodium Metabisulphite",
        ("SMBS", "sodium metabisulfite", "sodium meta bisulphite", "Na2S2O5", "SMB", "Sodium Meta Bi Sulphite"),
        "Food Grade 97%", "28321030", 18.0, "bag", 50.0, INORG, 49.0,
        (S("Assay (as Na2S2O5)", "%", 97.0, None), S("Iron (Fe)", "ppm", None, 20.0),
         S("Water insolubles", "%", None, 0.05)),
    ),
    _p(
        "FORM85", "Formic Acid 85%",
        ("HCOOH", "formic acid", "methanoic acid", "formic 85", "Formik Acid", "formic acid 85%"),
        "Technical 85%", "29151100", 18.0, "carboy", 35.0, ACIDS, 56.0,
        (S("HCOOH content", "%", 85.0, 86.0), S("Chloride (Cl)", "ppm", None, 20.0),
         S("Iron (Fe)", "ppm", None, 3.0)),
    ),
    _p(
        "GAA", "Acetic Acid Glacial",
        ("GAA", "glacial acetic acid", "acetic acid", "ethanoic acid", "CH3COOH", "Acetic Acid Glacial 99.8", "glacial acetic"),
        "99.85% min", "29152100", 18.0, "carboy", 35.0, ACIDS, 46.0,
        (S("Assay", "%", 99.85, None), S("Moisture", "%", None, 0.15),
         S("Formic acid", "%", None, 0.05), S("Colour (APHA)", "Hazen", None, 10.0)),
    ),
    _p(
        "PHOS85", "Phosphoric Acid 85%",
        ("H3PO4", "orthophosphoric acid", "OPA", "phosphoric acid", "ortho phosphoric acid 85", "Phosphoric Acid Food Grade", "Fosforic Acid"),
        "Food Grade 85%", "28092010", 18.0, "carboy", 35.0, ACIDS, 96.0,
        (S("H3PO4 content", "%", 85.0, 86.0), S("Heavy metals (as Pb)", "ppm", None, 10.0),
         S("Chloride (Cl)", "ppm", None, 5.0)),
    ),
    _p(
        "SSIL", "Sodium Silicate",
        ("water glass", "liquid glass", "sodium silicate liquid", "silicate of soda", "Na2SiO3", "Sodium Silicat", "soluble glass"),
        "Liquid 2.0 ratio", "28391900", 18.0, "IBC", 1300.0, INORG, 18.0,
        (S("Total solids", "%", 44.0, 48.0), S("SiO2:Na2O ratio", "", 1.95, 2.1),
         S("Specific gravity", "", 1.5, 1.56)),
    ),
)
# fmt: on

_BY_CODE: dict[str, Product] = {p.code: p for p in PRODUCTS}
_BY_NAME: dict[str, Product] = {p.name.casefold(): p for p in PRODUCTS}


def product_by_code(code: str) -> Product:
    """The product with this code (case-insensitive); KeyError names the unknown code."""
    try:
        return _BY_CODE[code.strip().upper()]
    except KeyError:
        raise KeyError(f"unknown product code: {code!r}") from None


def product_by_name(name: str) -> Product:
    """The product with this canonical name (case- and space-insensitive).

    Aliases are deliberately not resolved here: matching free text is the extractor's job.
    """
    try:
        return _BY_NAME[" ".join(name.split()).casefold()]
    except KeyError:
        raise KeyError(f"unknown product name: {name!r}") from None


def catalogue_records() -> list[dict[str, object]]:
    """The catalogue as JSON-ready dicts, in catalogue order (as written to catalogue.json)."""
    return [
        {
            "code": p.code,
            "name": p.name,
            "aliases": list(p.aliases),
            "grade": p.grade,
            "hsn": p.hsn,
            "gst_rate": p.gst_rate,
            "unit": p.unit,
            "pack": p.pack,
            "pack_size_kg": p.pack_size_kg,
            "stock_group": p.stock_group,
            "base_price_per_kg": p.base_price_per_kg,
            "specs": [
                {"name": s.name, "unit": s.unit, "min": s.min, "max": s.max} for s in p.specs
            ],
        }
        for p in PRODUCTS
    ]


if len(_BY_CODE) != len(PRODUCTS) or len(_BY_NAME) != len(PRODUCTS):
    raise RuntimeError("duplicate product code or name in the catalogue")
