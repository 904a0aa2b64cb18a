"""How Indian traders write quantities and money, with the normalised value of each form.

Every function returns `(surface text, value)`, so mail composers can record ground truth
for exactly what they wrote.
"""

from __future__ import annotations

import random

from demo.world.catalogue import Product
from ml.indian_numbers import indian_grouping

PACK_WORDS = {
    "bag": ("bags", "bags", "bags", "Bags", "nos bags", "bag"),
    "drum": ("drums", "drums", "Drums", "barrels", "drum"),
    "carboy": ("carboys", "carboys", "cans", "Carboys", "carboy"),
    "IBC": ("IBC", "IBCs", "IBC tanks", "IBC"),
    "tanker": ("tanker", "tankers", "tanker load"),
}


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def pick_pack_count(rng: random.Random, product: Product) -> int:
    """A plausible number of standard packs for one order line."""
    ranges = {"bag": (8, 400), "drum": (2, 60), "carboy": (4, 120), "IBC": (1, 8), "tanker": (1, 2)}
    lo, hi = ranges[product.pack]
    n = int(lo + (hi - lo) * rng.random() ** 2.2)
    if n >= 40:
        n = round(n / 10) * 10
    return max(lo, n)


def quantity_text(rng: random.Random, product: Product, qty_kg: float) -> tuple[str, float]:
    """A surface form of `qty_kg` of `product` and the kilograms it states."""
    pack = product.pack_size_kg
    count = qty_kg / pack
    forms: list[tuple[str, float]] = []
    if qty_kg >= 1000 and qty_kg % 1000 == 0:
        mt = _num(qty_kg / 1000)
        unit = rng.choice(("MT", "MT", "mt", "MTs", "tonnes", "tons", "Ton", "M.T."))
        forms.append((f"{mt} {unit}", qty_kg))
    elif qty_kg >= 1000 and (qty_kg * 10) % 1000 == 0:
        forms.append((f"{_num(qty_kg / 1000)} MT", qty_kg))
    kg_int = int(qty_kg)
    if float(qty_kg).is_integer():
        forms.append(
            (
                f"{indian_grouping(kg_int) if kg_int >= 1000 else kg_int} {rng.choice(('kg', 'kgs', 'Kg', 'KG', 'kgs.'))}",
                qty_kg,
            )
        )
        forms.append((f"{kg_int}{rng.choice(('kg', 'kgs', 'KG'))}", qty_kg))
    if float(count).is_integer() and count >= 1:
        n = int(count)
        word = rng.choice(PACK_WORDS[product.pack])
        size = _num(pack)
        if product.pack in ("bag", "drum", "carboy"):
            forms.append((f"{n} {word} ({size} kg)", n * pack))
            forms.append((f"{n} {word} of {size} kg", n * pack))
            forms.append((f"{n} {word} x {size} kg", n * pack))
            forms.append((f"{n} {word} x {size} kgs", n * pack))
            forms.append((f"{n} {word}", n * pack))
        else:
            forms.append((f"{n} {word}", n * pack))
    return rng.choice(forms)


def price_per_kg_text(rng: random.Random, rate: float) -> tuple[str, float]:
    """A per-kg rate as written ('Rs 248/kg', '₹125/kg', 'Rs 45,000 per MT') and rupees per kg."""
    r = _num(round(rate, 2))
    forms = [
        (f"Rs {r}/kg", rate),
        (f"Rs. {r}/kg", rate),
        (f"Rs.{r}/- per kg", rate),
        (f"₹{r}/kg", rate),
        (f"₹ {r} per kg", rate),
        (f"INR {r}/kg", rate),
        (f"INR {r} per Kg", rate),
        (f"Rs {r} per kg", rate),
        (f"{r}/- per kg", rate),
        (f"@ Rs {r}/kg", rate),
    ]
    text, value = rng.choice(forms)
    if rate >= 10 and rng.random() < 0.12:
        per_mt = int(round(rate * 1000, -2))
        text, value = f"Rs {indian_grouping(per_mt)} per MT", per_mt / 1000
    return text, value


def amount_text(rng: random.Random, amount: float) -> tuple[str, float]:
    """A total amount as written ('INR 1,18,000', '2 lakh', '1.5 crore') and the rupees it states."""
    rupees = int(round(amount))
    forms = [
        (f"INR {indian_grouping(rupees)}", rupees),
        (f"Rs. {indian_grouping(rupees)}/-", rupees),
        (f"Rs {indian_grouping(rupees)}", rupees),
        (f"₹{indian_grouping(rupees)}", rupees),
        (f"₹ {indian_grouping(rupees)}.00", rupees),
    ]
    if rupees >= 100000:
        lakh = round(rupees / 100000, 1 if rupees < 10**7 else 0)
        if rupees < 10**7:
            forms.append((f"{_num(lakh)} lakh", lakh * 100000))
            forms.append((f"Rs {_num(lakh)} lakhs", lakh * 100000))
            forms.append((f"₹{_num(lakh)} lakh", lakh * 100000))
        if rupees >= 10**7:
            crore = round(rupees / 10**7, 2)
            forms.append((f"{_num(crore)} crore", crore * 10**7))
            forms.append((f"Rs {_num(crore)} cr", crore * 10**7))
    text, value = rng.choice(forms)
    return text, float(round(value, 2))
