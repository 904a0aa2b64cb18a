"""Indian business identities for the demo world: states, PAN, GSTIN, CIN, names.

Every GSTIN produced by :func:`make_gstin` carries a correct check character (the
mod-36 Luhn variant `python-stdnum` implements); :func:`mistype_gstin` produces the kind
of one-character typo people make, whose check character then fails.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass

from stdnum import luhn
from stdnum.in_ import gstin as gstin_mod

ALNUM = string.digits + string.ascii_uppercase


@dataclass(frozen=True)
class State:
    """An Indian state or union territory as GST and the MCA know it."""

    gst_code: str
    name: str
    cin_code: str
    cities: tuple[str, ...]
    weight: int


STATES: tuple[State, ...] = (
    State(
        "27",
        "Maharashtra",
        "MH",
        ("Mumbai", "Pune", "Thane", "Navi Mumbai", "Nagpur", "Tarapur", "Aurangabad", "Nashik"),
        22,
    ),
    State(
        "24",
        "Gujarat",
        "GJ",
        ("Ahmedabad", "Vadodara", "Surat", "Ankleshwar", "Vapi", "Rajkot", "Bharuch"),
        20,
    ),
    State("33", "Tamil Nadu", "TN", ("Chennai", "Coimbatore", "Tiruppur", "Hosur", "Madurai"), 8),
    State("29", "Karnataka", "KA", ("Bengaluru", "Mysuru", "Hubballi", "Mangaluru"), 6),
    State("36", "Telangana", "TG", ("Hyderabad", "Secunderabad", "Medak"), 6),
    State("37", "Andhra Pradesh", "AP", ("Visakhapatnam", "Vijayawada", "Nellore"), 3),
    State("07", "Delhi", "DL", ("New Delhi", "Delhi", "Okhla", "Narela"), 6),
    State("09", "Uttar Pradesh", "UP", ("Noida", "Ghaziabad", "Kanpur", "Lucknow", "Agra"), 6),
    State("06", "Haryana", "HR", ("Gurugram", "Faridabad", "Panipat", "Sonipat", "Bahadurgarh"), 5),
    State("08", "Rajasthan", "RJ", ("Jaipur", "Bhiwadi", "Udaipur", "Jodhpur"), 4),
    State("23", "Madhya Pradesh", "MP", ("Indore", "Bhopal", "Pithampur", "Dewas"), 4),
    State("19", "West Bengal", "WB", ("Kolkata", "Howrah", "Haldia", "Durgapur"), 4),
    State("03", "Punjab", "PB", ("Ludhiana", "Jalandhar", "Amritsar", "Mohali"), 3),
    State("32", "Kerala", "KL", ("Kochi", "Thrissur", "Kozhikode"), 2),
    State("21", "Odisha", "OR", ("Bhubaneswar", "Cuttack", "Rourkela"), 1),
    State("22", "Chhattisgarh", "CT", ("Raipur", "Bhilai"), 1),
    State("20", "Jharkhand", "JH", ("Jamshedpur", "Ranchi", "Dhanbad"), 1),
    State("05", "Uttarakhand", "UR", ("Haridwar", "Dehradun", "Rudrapur"), 1),
    State("02", "Himachal Pradesh", "HP", ("Baddi", "Solan"), 1),
    State("30", "Goa", "GA", ("Verna", "Margao"), 1),
    State("10", "Bihar", "BR", ("Patna", "Hajipur"), 1),
    State("18", "Assam", "AS", ("Guwahati",), 1),
)
STATE_BY_CODE: dict[str, State] = {s.gst_code: s for s in STATES}

FIRST_NAMES = (
    "Rajesh",
    "Suresh",
    "Amit",
    "Anil",
    "Sunil",
    "Vijay",
    "Sanjay",
    "Ramesh",
    "Mahesh",
    "Dinesh",
    "Prakash",
    "Manoj",
    "Ashok",
    "Deepak",
    "Rakesh",
    "Nitin",
    "Sachin",
    "Rahul",
    "Vikas",
    "Ajay",
    "Kiran",
    "Priya",
    "Neha",
    "Pooja",
    "Sneha",
    "Anjali",
    "Kavita",
    "Sunita",
    "Meena",
    "Rekha",
    "Arun",
    "Venkat",
    "Srinivas",
    "Karthik",
    "Ganesh",
    "Murali",
    "Lakshmi",
    "Divya",
    "Harish",
    "Gaurav",
    "Hitesh",
    "Jignesh",
    "Bhavesh",
    "Paresh",
    "Chirag",
    "Mitesh",
    "Ketan",
    "Nilesh",
    "Imran",
    "Salim",
    "Farhan",
    "Ayesha",
    "Zubair",
    "Gurpreet",
    "Harpreet",
    "Manpreet",
    "Joseph",
    "Thomas",
    "Anand",
    "Sourav",
    "Debashis",
    "Subrata",
    "Arindam",
    "Pradeep",
    "Yogesh",
    "Tushar",
)
LAST_NAMES = (
    "Shah",
    "Patel",
    "Mehta",
    "Desai",
    "Joshi",
    "Kulkarni",
    "Deshpande",
    "Patil",
    "Jadhav",
    "Pawar",
    "Sharma",
    "Verma",
    "Gupta",
    "Agarwal",
    "Jain",
    "Bansal",
    "Goyal",
    "Singh",
    "Chauhan",
    "Yadav",
    "Iyer",
    "Iyengar",
    "Nair",
    "Menon",
    "Pillai",
    "Reddy",
    "Rao",
    "Naidu",
    "Krishnan",
    "Subramanian",
    "Banerjee",
    "Chatterjee",
    "Mukherjee",
    "Das",
    "Ghosh",
    "Bose",
    "Sen",
    "Khan",
    "Shaikh",
    "Qureshi",
    "Gill",
    "Sandhu",
    "Malhotra",
    "Kapoor",
    "Khanna",
    "Sethi",
    "Thakkar",
    "Parikh",
    "Modi",
    "Bhatt",
)
NAME_STEMS = (
    "Shree Ganesh",
    "Sai",
    "Om",
    "Jai Ambe",
    "Balaji",
    "Krishna",
    "Laxmi",
    "Mahalaxmi",
    "Siddhi",
    "Vinayak",
    "Kaveri",
    "Narmada",
    "Ganga",
    "Godavari",
    "Sahyadri",
    "Himalaya",
    "Vindhya",
    "Everest",
    "Sunrise",
    "Galaxy",
    "Apex",
    "Pioneer",
    "Prime",
    "Supreme",
    "Star",
    "Royal",
    "Classic",
    "Global",
    "Unique",
    "Perfect",
    "Bright",
    "Crystal",
    "Silver",
    "Diamond",
    "Emerald",
    "Lotus",
    "Tulsi",
    "Amrut",
    "Aarti",
    "Deepak",
    "Navkar",
    "Parshva",
    "Mahavir",
    "Shanti",
    "Kalpataru",
    "Vardhman",
    "Rathi",
    "Bhagwati",
    "Chamunda",
    "Umiya",
    "Khodiyar",
    "Sri Venkateswara",
    "Sri Lakshmi",
    "Annapurna",
    "Trimurti",
    "Surya",
    "Chandra",
    "Indra",
    "Agni",
    "Vayu",
    "Nilkanth",
    "Omkar",
)
INDUSTRIES: dict[str, tuple[tuple[str, ...], str, tuple[str, ...]]] = {
    # industry: (name words, NIC code for the CIN, products they typically buy)
    "rubber": (
        ("Rubber", "Polymers", "Elastomers", "Tyres", "Rubber Products"),
        "25191",
        ("ZNO", "STA", "CBN330", "PSIL", "ZNST", "PCC", "MGO"),
    ),
    "paints": (
        ("Paints", "Coatings", "Colours", "Paints & Chemicals", "Resins"),
        "24222",
        ("TIO2R", "TIO2A", "PCC", "ZNO", "TOL", "ACE", "MEG", "ATH"),
    ),
    "detergents": (
        ("Detergents", "Soaps", "Home Care", "Cleaning Products", "Surfactants"),
        "24241",
        ("LABSA", "SLES70", "SAL", "SSA", "CSF", "SSIL", "SHMP", "GLY"),
    ),
    "pharma": (
        ("Pharma", "Pharmaceuticals", "Life Sciences", "Healthcare", "Drugs"),
        "24231",
        ("IPA", "ACE", "MEOH", "CAM", "CAA", "SBC", "GLY", "HCL33", "GAA", "MGO"),
    ),
    "food": (
        ("Foods", "Food Products", "Beverages", "Agro Foods", "Bakers"),
        "15499",
        ("CAM", "CAA", "SBC", "SMBS", "PHOS85", "GAA", "GLY"),
    ),
    "textiles": (
        ("Textiles", "Dyeing", "Processors", "Fabrics", "Dyes & Chemicals"),
        "17301",
        ("CSF", "CSL", "HP50", "GAA", "FORM85", "SAL", "SSIL", "SSA"),
    ),
    "water": (
        ("Water Solutions", "Enviro", "Water Treatment", "Aqua Systems"),
        "41000",
        ("HCL33", "CSL", "SHMP", "SMBS", "SUL98", "ATH", "CSF"),
    ),
    "plastics": (
        ("Plastics", "Polymers", "Pipes", "Profiles", "Packaging"),
        "25209",
        ("PVC67", "PCC", "ZNST", "STA", "TIO2R", "ATH"),
    ),
    "chemicals": (
        ("Chemicals", "Chem Industries", "Industries", "Specialities", "Chemtech"),
        "24119",
        ("SUL98", "HCL33", "CSF", "KOHF", "BORIC", "BORAX", "PHOS85", "FORM85", "MEOH"),
    ),
    "glass": (
        ("Glass Works", "Ceramics", "Glass", "Tiles"),
        "26109",
        ("SAD", "BORAX", "BORIC", "SSIL", "ZNO", "KOHF"),
    ),
}
INDUSTRY_NAMES: tuple[str, ...] = tuple(INDUSTRIES)
STREETS = (
    "Plot No. {n}, MIDC",
    "Survey No. {n}, GIDC Estate",
    "{n}, Industrial Area Phase II",
    "Shed No. {n}, SIDCO Industrial Estate",
    "Gala No. {n}, Udyog Bhavan",
    "{n}/B, Ring Road",
    "Unit {n}, Sector 5",
    "Door No. {n}, Main Road",
    "Khasra No. {n}, Village Road",
)


def weighted_state(rng: random.Random) -> State:
    """A state drawn with weights that follow where India's chemical buyers sit."""
    return rng.choices(STATES, weights=[s.weight for s in STATES])[0]


def make_pan(rng: random.Random, holder_type: str, name_initial: str) -> str:
    """A PAN of the right shape: 3 letters, holder type, name initial, 4 digits, letter."""
    letters = "".join(rng.choice(string.ascii_uppercase) for _ in range(3))
    digits = f"{rng.randrange(1, 10000):04d}"
    return f"{letters}{holder_type}{name_initial}{digits}{rng.choice(string.ascii_uppercase)}"


def make_gstin(pan: str, state_code: str, entity: str = "1") -> str:
    """The GSTIN of `pan` registered in `state_code`, with its correct check character."""
    body = f"{state_code}{pan}{entity}Z"
    gstin = body + luhn.calc_check_digit(body, alphabet=ALNUM)
    if not gstin_mod.is_valid(gstin):
        raise ValueError(f"constructed GSTIN fails validation: {gstin}")
    return gstin


def mistype_gstin(rng: random.Random, gstin: str) -> str:
    """A one-character typo of `gstin` that keeps its shape but fails the check character."""
    for _ in range(50):
        chars = list(gstin)
        kind = rng.random()
        if kind < 0.4:
            chars[14] = rng.choice(ALNUM)
        elif kind < 0.7:
            i = rng.randrange(7, 11)  # the PAN's digits
            chars[i] = rng.choice(string.digits)
        else:
            i = rng.randrange(2, 13)
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
        candidate = "".join(chars)
        if candidate != gstin and not gstin_mod.is_valid(candidate):
            return candidate
    raise RuntimeError("could not mistype GSTIN")  # unreachable in practice


def make_cin(rng: random.Random, listed: bool, nic: str, state: State, year: int, kind: str) -> str:
    """A CIN: listing, NIC industry code, state, year of incorporation, type, registration no."""
    return (
        f"{'L' if listed else 'U'}{nic}{state.cin_code}{year}{kind}{rng.randrange(1, 999999):06d}"
    )


def person_name(rng: random.Random) -> tuple[str, str]:
    """(first name, last name)."""
    return rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)


def mobile(rng: random.Random) -> str:
    """A +91 mobile number in canonical form (+91 and ten digits starting 6-9)."""
    return f"+91{rng.choice('6789')}{rng.randrange(10**9):09d}"


def format_phone(rng: random.Random, phone: str) -> str:
    """`phone` written the way people write it in signatures."""
    d = phone[3:]
    return rng.choice(
        (
            f"+91 {d[:5]} {d[5:]}",
            f"+91-{d}",
            f"+91 {d}",
            f"{d[:5]} {d[5:]}",
            f"0{d}",
            f"+91 {d[:2]} {d[2:6]} {d[6:]}",
            f"(+91) {d[:5]}-{d[5:]}",
        )
    )


def address(rng: random.Random, city: str, state: State) -> str:
    """A street address line in an industrial estate of `city`."""
    street = rng.choice(STREETS).format(n=rng.randrange(1, 400))
    pin = f"{rng.randrange(110001, 855999):06d}"
    return f"{street}, {city}, {state.name} - {pin}"
