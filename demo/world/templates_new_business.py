"""Phrasings for first-contact mail (intent `new_business`), one table per kind of first contact.

Families:
- `buyer`: a prospect who wants to buy from us (the phrasings in `templates`);
- `distributorship`: a firm that wants to stock and sell our range as dealer or distributor;
- `agency`: a maker or a commission agent who wants us to represent them, or to sell for us;
- `vendor_registration`: a supplier asking to be registered as our vendor (GST, PAN, MSME
  details), or a new buyer's purchase team asking us to register on their side;
- `unknown_company`: a firm nobody here has heard of, often writing from a free mail address;
- `tie_up`: tie-up and partnership proposals (job work, warehousing, joint supply, exports);
- `intro_forward`: any of the above, forwarded by the writer (a reminder) or by a customer who
  refers a friend's firm.

Slots as in `templates`, plus `pan` (an entity) and plain text from `Slots.extra`: `region`,
`udyam`, `principal`, `source`, `since`, `referrer`, `line`.
"""

from __future__ import annotations

#: How often each family is drawn for a new-business mail.
FAMILY_WEIGHTS = {
    "buyer": 30,
    "distributorship": 14,
    "agency": 9,
    "vendor_registration": 15,
    "unknown_company": 14,
    "tie_up": 9,
    "intro_forward": 9,
}

REGIONS = (
    "Vidarbha",
    "Marathwada",
    "North Gujarat",
    "Saurashtra",
    "the Coimbatore - Tiruppur belt",
    "Punjab and Haryana",
    "Telangana",
    "Eastern UP",
    "the Kolkata - Howrah area",
    "Madhya Pradesh",
    "Rajasthan",
    "the Bhiwandi - Thane area",
    "Karnataka excluding Bengaluru",
    "Odisha",
    "Jharkhand and Bihar",
    "the Ludhiana - Jalandhar belt",
)
PRINCIPALS = (
    "a Korean maker of specialty additives",
    "a Gujarat based manufacturer of resins and emulsions",
    "a Taiwanese producer of pigments",
    "a Chinese manufacturer of rubber chemicals",
    "our group company in Dahej",
    "a European producer of water treatment chemicals",
    "a Vietnamese mineral processing company",
    "a Thai producer of PVC compounds",
)
SOURCES = (
    "IndiaMART",
    "Justdial",
    "your website",
    "the ChemExpo exhibitors list",
    "a common friend",
    "the trade directory",
    "Google",
    "TradeIndia",
    "your stall at the last expo",
    "our transporter",
)
SUPPLIER_WORDS = ("Chemicals", "Petrochem", "Organics", "Chem Industries", "Minerals", "Solvents")
FOREIGN_LINES = (
    "additives",
    "emulsions",
    "pigments and dyes",
    "rubber chemicals",
    "water treatment chemicals",
    "solvents",
    "fillers and minerals",
)

FAMILIES: dict[str, dict[str, object]] = {
    "distributorship": {
        "subjects": (
            "Distributorship enquiry - {region}",
            "Request for dealership",
            "Appointment as distributor for {region}",
            "Dealership for {product}",
            "Stockist enquiry - {company}",
            "Want to become your distributor",
            "Distribution rights - {region}",
            "C&F / stockist proposal for {region}",
            "Authorised dealer - {city}",
            "Dealership proposal from {company}",
        ),
        "subject_only": (
            "Dealership chahiye {region} ke liye - pls call",
            "want distributorship for {product} in {region}",
            "Distributor for {region}? Call me",
        ),
        "bodies": {
            "formal": (
                "We are {company}, trading in industrial chemicals at {city} for the last several years. We would like to be appointed as your authorised distributor for {region}. We have our own godown and two delivery vehicles.",
                "We wish to take up the distributorship of your products for {region}. Our team already calls on most {industry} units in the area and we can start with {qty} of {product} per month.",
                "We came to know about your company through {source}. We are interested in a stockist arrangement for {product} in {region}. Kindly let us know your terms for dealers, the minimum lifting and the credit you allow.",
                "Please consider our firm for dealership of {product}. We have a strong network among {industry} units in {region}, a warehouse at {city} and a clean payment record with our present principals.",
                "We are looking to add a reliable principal for {product}. If you do not have a distributor in {region}, we would like to discuss an exclusive arrangement. Kindly share your dealer policy.",
                "Our firm has been distributing chemicals to {industry} customers around {city} since {since}. We wish to take up your range too and request the distributor application form.",
                "We propose to act as your C&F agent and stockist for {region}. We can keep stock of {product} at our {city} godown and serve your customers there on your behalf.",
                "Kindly send us the terms and conditions for appointment as a dealer. Our GSTIN is {gstin}. We can lift about {qty} of {product} every month to begin with.",
            ),
            "terse": (
                "we want dealership of {product} for {region}. pls share terms",
                "need distributorship {region}. have godown + vehicles. call pls",
                "are you appointing dealers in {region}?",
                "pls send dealer terms for {product}",
                "stockist for {city}? interested",
                "interested in distribution of ur products in {region}",
            ),
            "hinglish": (
                "sir hum {region} me aapke products ka distributor banna chahte hai, terms bhejo",
                "namaste ji, {city} me hamara godown hai, {product} ki dealership mil sakti hai kya?",
                "bhai {region} me aapka koi dealer hai kya? nahi hai toh hum le lenge",
                "hum {since} se chemical ka kaam kar rahe hai {city} me, aapki dealership chahiye",
                "{product} ka stockist banna hai {region} ke liye, call karo please",
                "sir distributorship ke terms aur minimum lifting batao, {qty} monthly utha lenge",
            ),
        },
        "replies": (
            "Thank you for your interest in our distributorship. Kindly share your firm's profile, GST certificate and the list of customers you serve in {region}; our regional manager will call you this week.",
            "Thank you for writing to us. At present we are reviewing distributors for {region}. Please share your firm's profile and godown details so that we can take this forward.",
        ),
    },
    "agency": {
        "subjects": (
            "Agency proposal - {line}",
            "Looking for Indian distributor",
            "Appointment of agent for Western India",
            "Representation for {line} in India",
            "Commission agent - {region}",
            "Proposal: sole selling agency",
            "Partner wanted for {line}",
            "Agency enquiry from {company}",
        ),
        "subject_only": (
            "Need agent for {line} in your area",
            "Commission agent for {region} - interested?",
            "Will you represent us in India?",
        ),
        "bodies": {
            "formal": (
                "We represent {principal} and are looking for a well established trader in Maharashtra to act as their distributor. Your name has come up as a leading supplier of {product}. Please let us know if you would be interested.",
                "We are manufacturers of {line} and wish to appoint a selling agent for Western India. Given your customer base among {industry} units, we would like to offer you the agency on commission basis.",
                "I have been working as a commission agent for chemicals in {region} for many years and have good contacts with {industry} buyers. I would like to represent your company and bring orders for {product}.",
                "Our principal, {principal}, is entering the Indian market and is looking for a sole distributor. Kindly share your annual turnover range, warehouse locations and the industries you serve so that we can take this forward.",
                "We would like to appoint your firm as our authorised agent for {line}. We will support you with technical literature, samples and price protection. Kindly confirm a convenient time for a call.",
                "I am an independent sales agent covering {region}. I can introduce your {product} to my customers on a commission basis. Please share your terms for agents.",
            ),
            "terse": (
                "we are looking for agent for {line} in india. interested?",
                "can u represent {principal} in india? pls call",
                "i can bring orders for {product} in {region}. commission basis. interested?",
                "pls share ur terms for agents",
                "need selling agent {region}. u interested?",
            ),
            "hinglish": (
                "sir main {region} me commission pe kaam karta hu, aapka {product} bikwa dunga. baat karein?",
                "hamare principal ko india me agent chahiye {line} ke liye, aap interested ho toh batao",
                "namaste ji, hum {line} banate hai, aapko apna agent banana chahte hai. call kijiye",
                "bhai {region} me mere bahut customer hai, aapka maal bech sakta hu, commission kya doge?",
                "ji hum {principal} ka kaam dekhte hai, unko aap jaisa distributor chahiye",
            ),
        },
        "replies": (
            "Thank you for your proposal. Kindly send the product literature, TDS and the commercial terms you have in mind; we will review them with our management and revert.",
            "We would be glad to discuss this. Please share the details of the principal and the products so that we can set up a call next week.",
        ),
    },
    "vendor_registration": {
        "subjects": (
            "Request for vendor registration - {company}",
            "Please register us as a supplier",
            "Vendor registration form - {company}",
            "Supplier enlistment request",
            "Registration as approved vendor",
            "Vendor code creation - {company}",
            "KYC documents for vendor registration",
            "New supplier registration - {product}",
            "Empanelment as supplier",
            "Vendor onboarding",
        ),
        "subject_only": (
            "Pls register us as vendor - docs to follow",
            "vendor registration kab hoga? form bhej diya",
            "Need vendor code for {company}",
        ),
        "bodies": {
            "formal": (
                "We are manufacturers of {product} at {city} and would request you to register us as a supplier. Our details: GSTIN {gstin}, PAN {pan}, Udyam Registration No. {udyam}. The filled vendor registration form and a cancelled cheque will follow.",
                "Please find below our details for creation of vendor code in your system:\nCompany: {company}\nGSTIN: {gstin}\nPAN: {pan}\nMSME (Udyam): {udyam}\nKindly confirm once the registration is done.",
                "We have been supplying {product} to {industry} units for many years and would like to be enlisted as an approved supplier with your esteemed company. We are registered under MSME (Udyam No. {udyam}). Please send your vendor registration format.",
                "As desired by your purchase team, we are sending our KYC documents for vendor registration: GST certificate, PAN card, MSME certificate and a cancelled cheque. Our GSTIN is {gstin}.",
                "We are a registered MSME unit (Udyam No. {udyam}) and request you to kindly add us to your list of suppliers for {product}. Kindly note that payments to MSME suppliers are due within 45 days as per the MSMED Act.",
                "We would like to register with you as a vendor. We are a new company; our GSTIN is {gstin} and our PAN is {pan}. Please let us know the documents required and whether there is a vendor portal.",
                "Your firm has been shortlisted as a source of {product} for our plant at {city}. Kindly fill the attached vendor registration form of {company} with your GST, PAN and bank details so that your vendor code is ready before the first order.",
                "Our management has approved your name as a new source for {product}. Please register on our supplier portal and upload your GST certificate and cancelled cheque; the vendor code will be created within two days.",
            ),
            "terse": (
                "pls register us as supplier. gstin {gstin}, pan {pan}",
                "vendor reg form attached. pls create vendor code",
                "msme udyam no {udyam}. pls update in vendor master",
                "what documents needed for vendor registration?",
                "pls add us as vendor for {product}",
                "sent kyc docs for vendor code. pls confirm",
            ),
            "hinglish": (
                "sir humara vendor registration kar do, GST {gstin} hai, baaki documents bhej diye",
                "namaste ji, hum {product} banate hai {city} me, aapke yahan supplier register hona hai",
                "vendor code kab tak banega ji? form aur cheque bhej diya tha",
                "sir hum MSME unit hai, udyam number {udyam}, vendor list me add kar dijiye",
                "ji aapke purchase wale bole the form bhejne ko, bhej raha hu, PAN {pan}",
                "bhai supplier registration ka format bhejo, hum {product} supply karenge",
            ),
        },
        "mailboxes": (("sales", "accounts"), (7, 3)),
        "replies": (
            "Thank you for your details. We have forwarded them to our purchase team; they will contact you if there is a requirement for {product}.",
            "Received with thanks. Kindly also send the filled vendor form duly signed and stamped, with the MSME certificate, to complete the registration.",
            "Thank you. We shall fill and send the vendor registration form with our GST and PAN documents by tomorrow.",
        ),
    },
    "unknown_company": {
        "subjects": (
            "Introduction",
            "New enquiry",
            "Business enquiry",
            "Hello from {city}",
            "Regarding business",
            "We are a new firm",
            "Enquiry - {product}",
            "Looking for tie up with your company",
            "New customer enquiry",
            "Introduction of our firm",
        ),
        "subject_only": (
            "New firm in {city} - need {product} supplier",
            "hi, need to talk about business",
            "got ur contact from {source}, pls call",
        ),
        "bodies": {
            "formal": (
                "I have recently started a trading firm at {city} and got your contact from {source}. We have enquiries for {product} from a few {industry} units. Could you let me know how we can work with you?",
                "We are a newly formed company in the {industry} sector, our plant at {city} will start production next month. We are finalising suppliers for {product}. Kindly mail us your firm's profile and terms.",
                "My name was given to you by {source}. I run a small unit at {city} and would like to start buying {product} from you. We do not have an account with you yet; please guide us on the procedure.",
                "This is our first mail to your company. We are a {industry} unit at {city} and are looking to shift our purchase of {product} to a dealer who can supply every month. Please call me at your convenience.",
                "Good day. We are a start-up in {industry} products and found your details on {source}. We would like to know whether you supply to small buyers and what documents you need to open an account.",
                "We are an unregistered small business at present and will apply for GST shortly. We need {product} in small lots to begin with. Please tell us if you can supply and on what terms.",
            ),
            "terse": (
                "hi, new firm here. need {product}. can we talk?",
                "got ur contact from {source}. pls call me",
                "pls share company profile. we r new",
                "new unit {city}. need supplier",
                "hello, is this the right mail for new business?",
                "want to open account with you. what docs needed?",
            ),
            "hinglish": (
                "namaste sir, maine naya kaam shuru kiya hai {city} me, aapse maal lena hai, kaise shuru karein?",
                "sir aapka number {source} se mila, hum naye hai, {product} chahiye hoga",
                "ji hamara naya unit hai, GST abhi apply kiya hai, {product} milega kya?",
                "bhai aapke saath kaam karna hai, call karo jab time mile",
                "hello ji, hum {industry} ka kaam shuru kar rahe hai, supplier dhoondh rahe hai",
                "sir pehli baar mail kar raha hu, account kholna hai aapke yahan",
            ),
        },
        "replies": (
            "Thank you for getting in touch. Please find our company profile attached. Kindly share your GST certificate and a rough monthly requirement so that we can open your account.",
            "Thanks for reaching out. Our sales executive for {city} will call you today to understand your requirement.",
        ),
    },
    "tie_up": {
        "subjects": (
            "Business tie-up proposal",
            "Partnership opportunity",
            "Proposal for strategic tie-up",
            "Tie-up for {product} supply",
            "Collaboration proposal - {company}",
            "Job work / toll blending tie-up",
            "Warehousing tie-up at {city}",
            "Joint supply to {industry} units",
            "Export partnership",
            "Long term arrangement - {product}",
        ),
        "subject_only": (
            "Tie up for {product}? call pls",
            "partnership proposal - discuss this week",
            "Tie-up chahiye {city} ke liye",
        ),
        "bodies": {
            "formal": (
                "We have blending and packing capacity at {city} that is partly idle. We propose a tie-up where we pack {product} in smaller packs under your name for the retail market. Kindly let us know if this interests you.",
                "We are exporters to the Middle East and Africa and regularly get enquiries for {product}. We would like to tie up with you for a steady supply of export quality material. Please share a convenient time to discuss.",
                "We operate a bonded and a general warehouse at {city} and would like to offer a tie-up for storage and last mile delivery of your material in {region}.",
                "We are looking for a long term partner for {product} for our group companies. Instead of spot purchases, we want a yearly arrangement with fixed quantities of about {qty} a month. Please let us know if you would like to discuss.",
                "Our company supplies {industry} units across {region}. We propose a joint supply arrangement where you supply {product} and we handle the sales and collections. We can meet at your office next week.",
                "We do toll manufacturing and job work for several chemical companies. We would be glad to explore a collaboration for {product} with your firm. Kindly share your contact person for this.",
            ),
            "terse": (
                "we propose tie up for {product} supply. pls call",
                "interested in long term partnership? {qty} monthly",
                "have packing capacity at {city}. tie up possible?",
                "pls share contact for partnership discussion",
                "want to discuss tie-up for {region}",
            ),
            "hinglish": (
                "sir hamara {city} me warehouse hai, aapke saath tie-up karna chahte hai",
                "ji hum export karte hai, {product} ke liye aapke saath pakka tie up chahiye",
                "bhai ek proposal hai, {region} me milke kaam karte hai, call karo",
                "sir saal bhar ka contract karna hai {product} ka, {qty} mahine ka",
                "hamare paas packing ki capacity hai, aapka maal pack kar sakte hai, baat karein?",
            ),
        },
        "replies": (
            "Thank you for your proposal. Kindly send a short note on your facilities and the terms you have in mind; our director will revert after review.",
            "Thank you for writing to us. We would be happy to meet. Please suggest a convenient date next week.",
        ),
    },
}

#: Notes on top of a forwarded introduction, by who forwards it.
FORWARD_NOTES = {
    "resend": {
        "formal": (
            "Sending again as there has been no reply to our mail below.",
            "Kindly refer to our earlier mail below. We look forward to your response.",
            "Gentle reminder on our mail below. Please let us know a convenient time to call.",
        ),
        "terse": ("pls see below, no reply yet", "reminder pls", "any update on below?"),
        "hinglish": (
            "sir neeche wala mail dekh lijiye, reply nahi aaya",
            "ji pichla mail bheja tha, ek baar dekh lo",
        ),
    },
    "referral": {
        "formal": (
            "Forwarding the mail of a friend's company. They are good people, please take care of them.",
            "Please see the introduction below from an associate of ours who is looking for a supplier. Kindly get in touch with them directly.",
            "One of our group concerns wants to open an account with you. Their mail is below, kindly do the needful.",
            "Introducing a firm known to us for many years. Please see their mail below and contact them.",
        ),
        "terse": (
            "my friend's co. pls contact them",
            "pls see below - known party, pls help",
            "new party from our side. pls call them",
        ),
        "hinglish": (
            "sir ye hamare jaan pehchaan wale hai, inse baat kar lo",
            "bhai mere dost ki company hai, neeche mail dekho aur call karo",
            "ji ye party hamari reference se hai, dhyan rakhna",
        ),
    },
}

#: Our answers to a prospect who wants to buy (the `buyer` family).
BUYER_REPLIES = (
    "Thank you for your enquiry and your interest in our company. Please find our company profile attached. Kindly share your GST certificate so that we can open your account and send our offer for {product}.",
    "Thank you for writing to us. Our sales executive will call you today. Meanwhile, please send your monthly requirement of {product} and the delivery location.",
)
