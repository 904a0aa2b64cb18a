"""Phrasings for demo mail, as independent parts: greetings, intent bodies, closings.

A template is text with `{slot}` markers. Literal text is what the sender types (and may
get typos); slots are filled by the composer, which records the entity each slot writes.
Slots: product, qty, items, rate, amount, order, invoice, po (number with its cue), gstin,
sample_qty, batch, date, days, city, name (recipient), me (sender first name), company,
tender_id, due_date, utr, ourco.
Styles: formal (Indian business English), terse (mobile), hinglish (Hindi in Latin script).
"""

from __future__ import annotations

GREETINGS = {
    "formal": (
        "Dear Sir,",
        "Dear Sir/Madam,",
        "Dear {name} ji,",
        "Dear Mr. {name},",
        "Respected Sir,",
        "Dear Team,",
        "Good morning Sir,",
        "Dear Sales Team,",
        "Hello {name},",
        "Greetings of the day!",
        "Dear Sir / Ma'am,",
        "Kind Attn: Sales Department",
    ),
    "terse": ("Hi", "Hello", "Hi {name}", "Sir,", "Hi team", "Dear sir", "", "Gm sir"),
    "hinglish": (
        "Namaste {name} ji,",
        "Hello sir,",
        "Ram Ram {name} bhai",
        "Sir ji,",
        "Namaskar,",
        "Hi {name} bhai",
    ),
}
CLOSINGS = {
    "formal": (
        "Thanks & Regards,",
        "Warm Regards,",
        "Regards,",
        "Thanking you,\nYours faithfully,",
        "Thanks and regards,",
        "With best regards,",
        "Looking forward to your prompt reply.\n\nRegards,",
        "Awaiting your early response.\n\nThanks & Regards,",
    ),
    "terse": (
        "Thx",
        "Rgds",
        "Regards",
        "Thanks",
        "tks",
        "Sent from my iPhone",
        "Sent from Mail for Windows",
    ),
    "hinglish": ("Dhanyavaad", "Thanks ji", "Regards", "Jai Shree Krishna", "Shukriya"),
}
EXTRA_LINES = {
    "formal": (
        "Kindly treat this as urgent.",
        "Please do the needful at the earliest.",
        "Request you to revert at the earliest.",
        "Please acknowledge receipt of this mail.",
        "Kindly share your best offer.",
        "Your early action in this regard will be highly appreciated.",
        "Kindly confirm by return mail.",
    ),
    "terse": (
        "urgent pls",
        "pls revert asap",
        "call me",
        "waiting for ur reply",
        "need today itself",
        "asap",
    ),
    "hinglish": (
        "jaldi batao please",
        "urgent hai",
        "aaj hi chahiye",
        "call karo free ho toh",
        "bhai jaldi karo",
    ),
}

SUBJECTS = {
    "price_enquiry": (
        "Enquiry for {product}",
        "Rate enquiry - {product}",
        "Requirement of {product}",
        "Price required for {product} {qty}",
        "Quotation required",
        "RFQ: {product}",
        "Best price for {product}",
        "rate?",
        "{product} rate",
        "Enquiry",
        "Request for quotation - {product}",
        "Need rates",
        "URGENT REQUIREMENT {product}",
    ),
    "sample_request": (
        "Sample request - {product}",
        "Request for sample of {product}",
        "Sample required",
        "{product} sample",
        "Trial sample for {product}",
        "sample bhejo",
        "Samples for approval",
    ),
    "new_business": (
        "Introduction - {company}",
        "New vendor registration",
        "Business enquiry from {company}",
        "Looking for regular supplier",
        "Supplier for {product}",
        "Partnership enquiry",
        "Vendor registration - {company}",
        "New customer - {company}",
    ),
    "purchase_order": (
        "Purchase Order {po}",
        "PO for {product}",
        "Order confirmation - {po}",
        "PO attached",
        "New PO - {product} {qty}",
        "PURCHASE ORDER",
        "Order for {product}",
        "{po} - {company}",
        "Please find PO",
        "Order",
    ),
    "order_status": (
        "Status of order {order}",
        "Dispatch status - {order}",
        "Order status?",
        "When will material reach",
        "Pending delivery - {po}",
        "Material not received - {order}",
        "URGENT: DISPATCH DETAILS",
        "maal kab aayega",
        "Delivery schedule for {product}",
        "Tracking details required",
    ),
    "invoice_payment": (
        "Payment details - {invoice}",
        "Payment advice",
        "Invoice {invoice}",
        "Payment made against {invoice}",
        "Outstanding statement",
        "Request for invoice copy - {invoice}",
        "RTGS details",
        "Ledger reconciliation",
        "Payment released",
        "Query on invoice {invoice}",
    ),
    "coa_request": (
        "COA required - {product}",
        "Request for COA",
        "Certificate of Analysis - {invoice}",
        "COA for batch {batch}",
        "Test certificate required",
        "COA and MSDS for {product}",
        "Need TC for {order}",
    ),
    "quality_complaint": (
        "Quality complaint - {product}",
        "Material rejected - {invoice}",
        "Complaint regarding {product}",
        "QUALITY ISSUE",
        "Off-spec material received",
        "Rejection of batch {batch}",
        "Complaint - {invoice}",
        "maal kharab aaya hai",
    ),
    "tender_notice": (
        "Tender Notice: Supply of {product}",
        "New Tender Alert - {product}",
        "e-Tender {tender_id}",
        "Bid invitation: {product} ({qty})",
        "Tender Alert: {tender_id} - {product}",
        "Corrigendum: {tender_id}",
        "Limited tender enquiry for {product}",
    ),
}

BODIES: dict[str, dict[str, tuple[str, ...]]] = {
    "price_enquiry": {
        "formal": (
            "We have a requirement of {product} - {qty}. Kindly send your best rate delivered at {city} along with payment terms.",
            "Please quote your lowest price for {qty} of {product} on FOR {city} basis. Also mention delivery period.",
            "We are regular buyers of {product}. Kindly quote for {qty} with GST extra and delivery schedule.",
            "Kindly send us your quotation for the following items:\n{items}\nDelivery at our {city} plant.",
            "Request you to send your competitive offer for {product} ({qty}). Our current rate is {rate}, please check if you can match.",
            "We need {product} on a monthly basis, approx {qty} per month. Please send your best offer with COA.",
            "Please let us know the current market price of {product}. Requirement is {qty}, delivery within {days} days.",
            "Kindly quote for the below mentioned material:\n{items}\nPayment terms 30 days from date of invoice.",
            "We have received your contact from IndiaMART. Please send price for {product}, quantity {qty}.",
            "Your last rate for {product} was {rate}. Please confirm the rate for fresh requirement of {qty}.",
            "We are looking for {product} for our plant at {city}. Please quote for {qty} ex-works and FOR.",
            "Kindly offer your best price for {product} along with technical data sheet. Tentative quantity is {qty}.",
        ),
        "terse": (
            "pls send rate for {product} {qty}",
            "rate for {product}? need {qty}",
            "{product} {qty} - best rate pls",
            "Pls quote {product}\nQty {qty}\nDelivery {city}",
            "need {qty} {product}. price?",
            "whats ur rate for {product} today",
            "pls quote:\n{items}",
            "{product} ka latest rate? qty {qty}",
        ),
        "hinglish": (
            "{product} ka rate bhejo, {qty} chahiye",
            "bhai {product} ka best rate batao, {qty} lena hai {city} delivery",
            "{qty} {product} chahiye, rate kya chal raha hai aaj?",
            "sir {product} ka bhav bhejo please, requirement {qty}",
            "aapka {product} ka rate {rate} tha last time, abhi kya hai? {qty} lena hai",
            "rate bhejo jaldi:\n{items}",
        ),
    },
    "sample_request": {
        "formal": (
            "We would like to evaluate your {product}. Kindly send a sample of {sample_qty} along with COA and TDS to our lab.",
            "Please arrange to send {sample_qty} sample of {product} for our trial. On approval we will place a regular order of {qty}.",
            "Our R&D team needs samples of the following:\n{items}\nKindly courier {sample_qty} each to our {city} address.",
            "Kindly send a trial sample of {product} ({sample_qty}). Our monthly consumption is around {qty}.",
            "We are developing a new formulation and require {sample_qty} of {product}. Please send with MSDS.",
            "Request you to dispatch a pre-shipment sample of {product} before the main lot.",
            "Our customer has asked for an approval sample of {product}. Kindly send {sample_qty} with batch COA by courier.",
            "We are currently using {product} from another source and wish to try yours. Please send {sample_qty} for lab evaluation.",
            "Kindly send free samples of {product} along with the technical data sheet. If approved, requirement will be {qty} per month.",
            "Please courier {sample_qty} of {product} to our QC lab at {city}, attention Lab In-charge.",
        ),
        "terse": (
            "pls send {sample_qty} sample of {product}",
            "need sample {product} - {sample_qty}. courier to {city}",
            "sample of {product} pls. with COA",
            "can u send {product} sample? {sample_qty} enough",
            "sample {product} {sample_qty} pls. address same as last time",
            "pls arrange {product} sample today",
        ),
        "hinglish": (
            "{product} ka sample bhejo {sample_qty}, trial karna hai",
            "sir {sample_qty} sample bhej do {product} ka, approve hua toh {qty} ka order denge",
            "sample bhejo please {product}, courier se {city}",
            "bhai {product} ka ek sample chahiye, {sample_qty} kaafi hai",
        ),
    },
    "new_business": {
        "formal": (
            "We are {company}, manufacturers of {industry} products based at {city}. We are looking for a reliable supplier of {product} and would like to register you as our vendor.",
            "We came across your company on IndiaMART. We are a growing unit at {city} and consume {qty} of {product} monthly. Kindly send your company profile and product list.",
            "Please find our company details below for vendor registration. Our GSTIN is {gstin}. Kindly share your KYC documents and price list.",
            "We have recently started a new plant at {city} and are looking for long term suppliers for {product} and other chemicals. Kindly get in touch.",
            "We would like to establish business relations with your esteemed organisation. Our requirements include {product}. Kindly send your catalogue and credit terms.",
            "Greetings from {company}! We are expanding our {industry} business and want to source {product} directly from a distributor. Please call us to discuss.",
            "Kindly register us as a customer. GST No. {gstin}. We will need {product} on a regular basis, about {qty} per month.",
            "We are a {industry} unit located at {city}, in business since 2009. We wish to add you as an approved vendor for {product}. Kindly send your vendor registration form.",
            "Your name was referred to us by one of our associates. We have regular requirement of {product}, approx {qty}. Please let us know if you can supply on credit.",
            "We are setting up a new {industry} plant and require a reliable distributor for chemicals including {product}. Kindly share your product list with prices.",
            "We would like to open an account with you. Please find our details: GSTIN {gstin}. Our requirement is {product}, {qty} per month.",
            "Kindly send your dealership / distribution terms. We buy {product} in bulk and are looking for a better source.",
        ),
        "terse": (
            "we r new unit in {city}, need regular supply of {product}. pls call",
            "looking for supplier of {product}. monthly {qty}. interested?",
            "pls share price list and company profile. we use {product}",
            "hi, got ur no from indiamart. we need {product} regularly. pls call back",
            "new customer here. gst {gstin}. need {product}",
        ),
        "hinglish": (
            "namaste, hum {city} me naya unit start kar rahe hai, {product} regular chahiye. call karo",
            "hamara naya plant hai {city} me, {product} ka supplier chahiye, {qty} monthly",
            "sir hum {industry} ka kaam karte hai, {product} aapse lena chahte hai. rate aur terms bhejo",
        ),
    },
    "purchase_order": {
        "formal": (
            "Please find attached our {po} for {product} - {qty} at {rate}. Kindly arrange dispatch at the earliest and send invoice with COA.",
            "We are pleased to place our order as per your quotation:\n{items}\nOur {po}. Delivery at {city}. Payment 30 days.",
            "Kindly accept this mail as our purchase order ({po}) for {qty} of {product} at {rate}, GST extra. Total order value {amount}.",
            "As discussed on phone, we confirm our order for {product} ({qty}). {po}. Please dispatch by {date}.",
            "Please supply the following against our {po}:\n{items}\nBilling GSTIN {gstin}.",
            "We hereby place an order for {qty} of {product} at the agreed rate of {rate}. Kindly refer our {po} in your invoice.",
            "Attached is the PO for {product}. {po}. Quantity {qty}. Kindly confirm acceptance and dispatch date.",
            "Our {po} is released for the following material:\n{items}\nKindly mention PO number on all documents.",
            "Please treat this mail as confirmed order. {po}\nMaterial: {product}\nQty: {qty}\nRate: {rate}\nDelivery: {city}",
        ),
        "terse": (
            "pls dispatch {qty} {product} @ {rate}. {po}",
            "order confirmed - {product} {qty}. {po}",
            "PO attached. pls send material asap",
            "{po}\n{items}\ndispatch today pls",
            "confirm {qty} {product}, rate ok. send tomorrow",
        ),
        "hinglish": (
            "{product} {qty} bhej do, rate {rate} ok hai. {po}",
            "order pakka - {qty} {product}. {po}. kal tak gaadi bhejo",
            "PO bhej diya hai, {product} ka maal jaldi bhejo",
            "sir order le lo:\n{items}\n{po}",
        ),
    },
    "order_status": {
        "formal": (
            "Please update the dispatch status of our order {order} for {product}. Material is urgently required at our plant.",
            "We have not yet received the material against our {po}. Kindly share the vehicle number and LR copy.",
            "Kindly inform the expected date of delivery for {order}. Our production is getting affected.",
            "This is to remind you that the material against {order} ({product}, {qty}) is still pending. Please expedite.",
            "Kindly share the dispatch details and transporter name for our {po}.",
            "Please confirm whether {order} has been dispatched. We need the material before {date}.",
            "Material against our {po} was promised by {date} but not received till now. Please look into this on priority.",
            "Request you to share the current status of our pending order {order}.",
        ),
        "terse": (
            "status of {order}?",
            "material not recd yet. {po}. pls check",
            "when will {product} reach? order {order}",
            "pls share vehicle no for {order}",
            "any update on {order}??",
            "dispatch details pls - {po}",
        ),
        "hinglish": (
            "maal kab aayega? {order} ka",
            "gaadi nahi aayi abhi tak, {po}. kya hua?",
            "bhai {product} ka maal kab tak pahunchega? order {order}",
            "sir gaadi number bhejo {order} ka, aaj chahiye",
            "{qty} {product} ka order pending hai, jaldi bhejo",
        ),
    },
    "invoice_payment": {
        "formal": (
            "We have released payment of {amount} against your invoice {invoice} through RTGS. UTR No. {utr}. Kindly acknowledge.",
            "Please find below payment details against invoice {invoice}:\nAmount: {amount}\nUTR: {utr}\nDate: {date}",
            "Kindly send us a copy of invoice {invoice} as the original is not traceable. Payment will be processed on receipt.",
            "There is a difference in rate in invoice {invoice}. As per PO the rate is {rate}. Kindly issue a credit note.",
            "Please send your ledger statement for reconciliation. As per our books the outstanding is {amount}.",
            "We have made payment of {amount} towards invoices {invoice} after deducting TDS. Please update your records.",
            "Kindly share your bank details on letterhead for processing payment against invoice {invoice}.",
            "Your invoice {invoice} shows our GSTIN as {gstin}, which is incorrect. Please cancel and reissue the invoice.",
            "This is to inform you that payment against invoice {invoice} will be released on {date} as per our payment cycle.",
            "Kindly send the e-way bill and e-invoice IRN for invoice {invoice}; our accounts team cannot book it without these.",
            "Please confirm the balance outstanding in our account. We have paid {amount} on {date}.",
        ),
        "terse": (
            "payment done {amount}. utr {utr}",
            "pls send copy of {invoice}",
            "{invoice} payment released today",
            "pls send outstanding statement",
            "{invoice} - pls send e-way bill copy",
        ),
        "hinglish": (
            "{invoice} ka payment kar diya hai, {amount}, UTR {utr}",
            "sir bill ki copy bhejo {invoice}, payment process karna hai",
            "payment next week hoga {invoice} ka",
            "{amount} transfer kar diya hai aaj, check karke batao",
        ),
    },
    "coa_request": {
        "formal": (
            "Kindly send the COA for {product} supplied against invoice {invoice}. Our QC cannot release the material without it.",
            "Please share the Certificate of Analysis for batch {batch} of {product}.",
            "We have received {product} against {order} but the COA was not attached. Please send at the earliest.",
            "Request you to send COA and MSDS for {product}, invoice {invoice}.",
            "Our auditor requires test certificates for all batches supplied. Please send COA for batch {batch}.",
            "Kindly email the COA for the material dispatched vide invoice {invoice}. Batch No. {batch}.",
            "The COA received with invoice {invoice} does not mention the moisture value. Kindly send a revised COA for batch {batch}.",
            "Please send the COA, MSDS and TDS of {product} for our customer audit scheduled next week.",
            "Our QA department requires the batch-wise COA for {product} received against our {po}. Kindly share.",
            "Material received against {order}. Kindly send COA and packing list at the earliest so that GRN can be made.",
            "Kindly share the Certificate of Analysis for {product}, invoice {invoice}. The hard copy was not received with the consignment.",
        ),
        "terse": (
            "pls send COA - {invoice}",
            "COA for {product} batch {batch}?",
            "need TC for {order} urgently",
            "coa not recd with material. {invoice}. pls mail",
            "pls share COA + MSDS {product}",
        ),
        "hinglish": (
            "COA bhejo {invoice} ka, QC rok ke rakha hai",
            "sir {product} ka test certificate bhej do, batch {batch}",
            "{order} ka maal aa gaya, COA nahi aaya. bhejo please",
        ),
    },
    "quality_complaint": {
        "formal": (
            "The {product} received against invoice {invoice} (batch {batch}) does not meet our specification. {qty} is lying rejected at our stores. Kindly arrange replacement.",
            "We regret to inform you that the material supplied vide invoice {invoice} has high moisture and lumps. Please take back {qty}.",
            "Our QC has rejected batch {batch} of {product}. Purity found lower than specified. Please send your representative.",
            "The bags of {product} received were torn and material was contaminated. We are holding {qty}. Please advise.",
            "This is the second time we have received off-spec {product}. Kindly investigate and issue a debit note against invoice {invoice}.",
            "Colour of {product} batch {batch} is not matching with the approved sample. Please replace immediately.",
            "On testing, the {product} supplied against {invoice} was found to have assay below specification. We have put {qty} on hold. Kindly arrange pickup.",
            "We have received short weight in the consignment of {product}, invoice {invoice}. Several bags are under weight. Please look into it.",
            "Drums of {product} received in leaking condition. {qty} is not acceptable. Please arrange replacement and issue a credit note.",
            "Our production line stopped due to poor quality of {product} (batch {batch}). We will debit the loss to your account.",
            "Material against {order} is not as per the sample approved by us. Kindly send your QC person to inspect.",
        ),
        "terse": (
            "{product} quality very poor. batch {batch}. pls replace",
            "material rejected - {invoice}. {qty} to be returned",
            "lumps in {product}, not usable",
            "{product} batch {batch} failed in our lab. pls call",
            "wrong material recd against {order}. pls take back",
        ),
        "hinglish": (
            "maal kharab aaya hai, {product} me moisture hai. {qty} wapas lo",
            "bhai ye kya bheja {product}? batch {batch} reject hai",
            "{invoice} ka maal quality me fail hua, replacement bhejo",
            "sir {product} me bahut dust hai, {qty} return karna hai",
        ),
    },
    "tender_notice": {
        "formal": (
            "Tender ID: {tender_id}\nOrganisation: {company}\nItem: Supply of {product}\nQuantity: {qty}\nEMD: {amount}\nBid submission end date: {due_date}\nLocation: {city}",
            "Dear Bidder,\n\nOnline bids are invited for supply of {product} ({qty}) to {company}, {city}. Tender No. {tender_id}. Last date of submission {due_date}. EMD {amount}.",
            "New tender matching your profile:\n\n{tender_id} | {company} | Supply of {product} | Qty {qty} | Due {due_date}",
            "{company} invites sealed bids for annual rate contract of {product}, estimated quantity {qty}. Tender reference {tender_id}. Bids due on {due_date}.",
            "Corrigendum to tender {tender_id}: the bid due date for supply of {product} is extended to {due_date}. Quantity revised to {qty}.",
            "Limited tender enquiry {tender_id}: {company} requires {product}, {qty}, delivery at {city}. Please submit your offer before {due_date}.",
            "Tender Reference: {tender_id}\nTitle: Rate contract for {product}\nEstimated quantity: {qty}\nEarnest Money Deposit: {amount}\nClosing date: {due_date}\nBuyer: {company}, {city}",
            "GeM bid {tender_id} has been published for {product}. Quantity {qty}. Consignee location {city}. Bid end date {due_date}.",
            "We invite your quotation for supply of {product} ({qty}) to our {city} works. Enquiry No. {tender_id}. Offers must reach us by {due_date}.",
            "Dear Vendor,\n\n{company} has floated an open tender ({tender_id}) for {product}. Estimated value of the EMD is {amount}. Pre-bid meeting on {due_date}.",
            "Bid Number: {tender_id}\nItem Category: {product}\nTotal Quantity: {qty}\nDepartment: {company}\nBid End Date/Time: {due_date}",
            "Re-tender notice {tender_id}: supply of {product}, quantity {qty}, for {company}. Due date {due_date}.",
            "Annual rate contract for water treatment chemicals including {product} ({qty}). Tender {tender_id}, {company}. Submission by {due_date}.",
            "Notice inviting tender {tender_id}. {company}, {city} invites bids from manufacturers and authorised distributors of {product}. Quantity: {qty}. EMD: {amount}.",
            "Tender alert for your keywords: {product}\n{company} - {tender_id} - Qty {qty} - closing {due_date}",
        ),
    },
}

OOO_BODIES = (
    "I am out of office from {date} to {due_date} with limited access to email. For urgent matters please contact {name} on {phone}.",
    "Thank you for your email. I am currently on leave and will respond on my return. For urgent requirements call {phone}.",
    "I am travelling and will have limited access to emails. I will get back to you at the earliest.",
    "Auto reply: I am out of office till {due_date}. Your mail will not be forwarded.",
    "Thanks for your mail. Our office will remain closed on account of Diwali holidays. We will reply after we resume.",
    "I am attending a plant audit and will be back on {due_date}. Please contact {name} for purchase related queries.",
    "This mailbox is not monitored. Please send purchase enquiries to our purchase department.",
    "Dear Sender, your mail has been received. Our team will respond within 48 working hours.",
    "I am on leave till {due_date} due to a family function. Kindly call {phone} for anything urgent.",
    "Thank you for writing. I am away on a business trip with intermittent access to mail until {due_date}.",
    "Out of office: I will be back on {due_date}. In my absence please write to {name}.",
    "We are closed for Ganesh Chaturthi and will resume on {due_date}.",
    "Your message has been received. Note that I am currently working from our {name} plant with limited connectivity.",
    "Auto-reply: thank you for your email. I am out of the office on {date} and will respond on my return.",
    "I am on medical leave. For accounts matters contact {name}, for purchase matters call {phone}.",
)

OUR_REPLIES = {
    "price_enquiry": (
        "Thank you for your enquiry. Please find our best offer for {product}: {rate}, GST 18% extra, ex-godown. Delivery within {days} days from PO. Payment 30 days.",
        "Our rate for {product} is {rate} + GST, delivered {city}. Offer valid for 3 days subject to stock availability.",
    ),
    "sample_request": (
        "We have dispatched the sample of {product} by courier today. COA is attached for your reference.",
    ),
    "order_status": (
        "The material against {order} has been dispatched today. Vehicle and LR details will follow.",
        "Material against {order} is planned for dispatch by {date}. We regret the delay.",
    ),
    "quality_complaint": (
        "We are sorry for the inconvenience. Our QC team is checking the retained sample of batch {batch} and will revert within 24 hours.",
    ),
    "coa_request": ("Please find attached the COA for batch {batch} of {product}.",),
    "invoice_payment": ("Thank you, we acknowledge receipt of payment against {invoice}.",),
}

FOLLOW_UPS = {
    "formal": ("Noted. We will revert with our confirmation shortly.", "Received with thanks."),
    "terse": ("ok noted", "recd thanks", "ok"),
    "hinglish": ("ok ji, mil gaya", "theek hai ji"),
}
#: Follow-ups that only make sense in a thread of one intent, by intent and style.
FOLLOW_UPS_BY_INTENT = {
    "price_enquiry": {
        "formal": (
            "Thank you for the quick reply. Please confirm the earliest dispatch date.",
            "Thanks. Kindly reconsider the rate, we have a better offer from another supplier.",
        ),
        "terse": ("thx. pls confirm date", "rate high, pls revise"),
        "hinglish": ("theek hai, date confirm karo", "rate thoda kam karo bhai"),
    },
    "order_status": {
        "formal": ("Please share the LR copy once the vehicle leaves.",),
        "terse": ("pls send vehicle no", "ok. pls share LR"),
        "hinglish": ("gaadi number bhejo jab nikle", "kal tak pakka aana chahiye"),
    },
    "sample_request": {
        "formal": ("Kindly share the courier docket number.",),
        "terse": ("docket no pls",),
        "hinglish": ("courier ka docket number bhejo",),
    },
    "coa_request": {
        "formal": ("Kindly also send the MSDS.",),
        "terse": ("pls send hard copy also",),
        "hinglish": ("MSDS bhi bhej do",),
    },
    "quality_complaint": {
        "formal": ("Please expedite, our production is affected.",),
        "terse": ("pls revert today",),
        "hinglish": ("jaldi batao, production ruka hua hai",),
    },
    "invoice_payment": {
        "formal": ("Thank you for the confirmation.",),
        "terse": ("ok thx",),
        "hinglish": ("dhanyavaad ji",),
    },
}


# -- more variety ------------------------------------------------------------------------
#
# The phrasings below widen what the generator writes: more openings and closings, short
# and subject-only mails, long formal letters, Hinglish and chat-style chasers, PO
# amendments, and prior-thread subjects for replies typed on top of an earlier mail of a
# different intent. They are merged into the tables above by `_extend`.


def _extend(table: dict, more: dict) -> None:
    for key, value in more.items():
        if isinstance(value, dict):
            _extend(table.setdefault(key, {}), value)
        else:
            table[key] = tuple(table.get(key, ())) + tuple(value)


_extend(
    GREETINGS,
    {
        "formal": (
            "Dear Sirs,",
            "Dear {name} Sir,",
            "Respected {name} ji,",
            "Good afternoon,",
            "Dear Concern,",
            "To,\nThe Sales Manager,\n{ourco}\n\nDear Sir,",
            "Kind attention: Mr. {name}",
            "Dear Madam,",
            "Dear All,",
            "Hi {name}, good morning.",
            "Sir,",
            "Dear Valued Supplier,",
        ),
        "terse": (
            "Hi sir",
            "hello",
            "{name},",
            "Dear {name}",
            "hi all",
            "Gd evng",
            "Hey {name}",
            "Sir ji",
        ),
        "hinglish": (
            "Namaste sir,",
            "Jai Shree Krishna {name} ji,",
            "Sat Sri Akal ji",
            "Hello {name} ji",
            "Bhai,",
            "Pranam sir,",
            "Radhe Radhe",
            "Sir ji namaste",
        ),
    },
)
_extend(
    CLOSINGS,
    {
        "formal": (
            "Yours truly,",
            "Thanks & Best Regards,",
            "Kind regards,",
            "Thanks in advance.\n\nRegards,",
            "Thanking you and assuring you of our best co-operation at all times.\n\nYours faithfully,",
            "With warm regards,",
            "Rgds,",
            "Please acknowledge.\n\nThanks & Regards,",
        ),
        "terse": (
            "thanks n regards",
            "Regds",
            "Sent from my Samsung Galaxy smartphone.",
            "Sent from Yahoo Mail on Android",
            "Get Outlook for Android",
            "ty",
            "",
            "-",
        ),
        "hinglish": (
            "Dhanyawad ji",
            "Thank you ji",
            "Aapka shukriya",
            "Jai Hind",
            "Radhe Radhe",
            "thx bhai",
            "Sent from my iPhone",
        ),
    },
)
_extend(
    EXTRA_LINES,
    {
        "formal": (
            "Please treat this as most urgent.",
            "An early reply will be highly appreciated.",
            "Kindly ignore if already done.",
            "Please call the undersigned in case of any clarification.",
            "This has the approval of our management.",
            "Kindly do not delay further.",
        ),
        "terse": (
            "pls confirm by tmrw",
            "revert by eod pls",
            "call me once u see this",
            "its urgent",
            "pls ack",
            "waiting",
        ),
        "hinglish": (
            "kal tak bata dena",
            "abhi tak kuch reply nahi aaya",
            "kripya jaldi karein",
            "sir ji dekh lo please",
            "aaj shaam tak confirm karo",
            "phone nahi utha rahe aap",
        ),
    },
)

#: Lines that open a long formal letter, before the request itself.
PREAMBLES = (
    "With reference to the above subject, we would like to state as follows.",
    "This has reference to our telephonic conversation with your Mr. {name} today.",
    "We refer to our earlier correspondence on the subject.",
    "At the outset we thank you for your continued support.",
    "We write to you in connection with the subject matter.",
    "As per the discussion held with your representative during his last visit,",
    "Further to our mail of last week,",
    "Greetings from {company}.",
    "We hope this mail finds you well.",
    "This is with reference to the captioned matter.",
)

#: Sentences a long formal letter adds after the request.
LONG_CONTEXT = (
    "We have been associated with your organisation for the last several years and have always appreciated your support and timely service.",
    "Please note that our plant runs round the clock and any interruption in the supply chain directly affects our commitments to our own customers.",
    "We would also request you to ensure that all documents, i.e. invoice, packing list, COA and e-way bill, accompany the consignment.",
    "Our accounts and stores departments have been kept in copy of this mail for their information and necessary action.",
    "In case of any clarification, you may contact the undersigned on the mobile number given below during office hours.",
    "We trust that you will give this matter your immediate personal attention and oblige.",
    "Kindly also note that from next quarter all communication should mention our vendor code along with the relevant document numbers.",
    "We look forward to a long and mutually beneficial business relationship with your esteemed organisation.",
)

#: Subjects that do not give the intent away (any inbound customer mail may carry one).
VAGUE_SUBJECTS = (
    "Urgent",
    "URGENT!!",
    "Reg.",
    "Request",
    "Follow up",
    "Query",
    "Important",
    "{company}",
    "Mail from {company}",
    "Kind attention",
    "Hi",
    "",
    "reminder",
    "Pls check",
    "Sir pls see",
    "fyi",
    "Regarding our discussion",
    "Need help",
    "For your action",
    "Re:",
)

_extend(
    SUBJECTS,
    {
        "price_enquiry": (
            "Requirement",
            "Quote pls",
            "Offer required - {product}",
            "Price for {qty} {product}",
            "rate bhejo {product}",
            "Fresh requirement - {company}",
        ),
        "sample_request": (
            "Sample needed urgently",
            "{product} - trial",
            "Lab sample",
            "Sample for {company}",
        ),
        "new_business": (
            "Supplier registration",
            "Business opportunity",
            "Looking for distributor",
            "Enquiry from new customer",
        ),
        "purchase_order": (
            "PO",
            "PFA PO",
            "Revised {po}",
            "PO amendment - {po}",
            "Amended PO - qty change",
            "Order placed",
            "Our order for {product}",
            "{po} - pls note",
            "Purchase order - {company}",
            "PO copy",
            "Confirmed order",
        ),
        "order_status": (
            "status?",
            "Any update?",
            "Reminder: pending material {po}",
            "3rd REMINDER - {order}",
            "2nd reminder - material not received",
            "Vehicle details",
            "LR copy pls",
            "E-way bill and LR required - {order}",
            "Delivery date confirmation - {po}",
            "dispatch hua kya?",
            "Balance quantity - {order}",
            "Escalation: delay in supply against {po}",
            "ETA pls",
            "Where is my material",
            "Order {po}",
        ),
        "invoice_payment": (
            "Payment",
            "Statement of account",
            "TDS certificate",
            "Bank details change",
            "Pending payment",
            "bhugtan",
            "Credit note required - {invoice}",
        ),
        "coa_request": (
            "COA",
            "TC pls",
            "COA pending - {order}",
            "Documents required - {invoice}",
            "MSDS/TDS",
            "COA for {po}",
            "test report chahiye",
            "Analysis report - {product}",
        ),
        "quality_complaint": (
            "Complaint",
            "Rejection",
            "Problem in material - {order}",
            "Quality problem against {po}",
            "Material not as per spec",
            "Debit note - {invoice}",
            "Short supply - {invoice}",
            "Leakage in drums",
        ),
    },
)

#: Whole requests typed into the subject line, with an empty body (or only a signature).
SUBJECT_ONLY = {
    "price_enquiry": (
        "rate for {product} {qty}?",
        "Pls quote {product} - {qty}",
        "{product} ka rate bhejo",
        "best price {product} {qty} FOR {city}",
    ),
    "sample_request": ("pls send {product} sample", "{product} sample bhejo {sample_qty}"),
    "new_business": ("Want to buy {product} regularly - pls call",),
    "purchase_order": (
        "PFA {po}",
        "{po} attached",
        "{po} - {product} {qty}",
        "Order: {product} {qty} @ {rate}",
    ),
    "order_status": (
        "status of {order}?",
        "any update on {po}",
        "{po} dispatch status?",
        "vehicle no for {order} pls",
        "gaadi kab niklegi {po}",
        "LR copy bhejo {order}",
        "when will {product} reach",
    ),
    "invoice_payment": (
        "payment done {amount} utr {utr}",
        "pls send copy of {invoice}",
        "{invoice} ka payment kab tak chahiye?",
    ),
    "coa_request": (
        "COA pls {invoice}",
        "COA bhejo {order}",
        "pls send TC batch {batch}",
        "MSDS + COA {product}",
    ),
    "quality_complaint": (
        "material rejected {invoice}",
        "{product} quality bad - batch {batch}",
        "maal kharab hai {order}",
    ),
}

#: What a colleague types on top of a forwarded mail.
FORWARD_NOTES = {
    "formal": (
        "Please see below.",
        "FYI and needful action.",
        "Please find below mail for your reference.",
        "Forwarding as discussed.",
        "Please check the trailing mail and do the needful.",
        "Dear Sir, please look into the below mail from our plant.",
        "Kindly refer to the mail below and revert.",
        "Please see below request from our user department.",
    ),
    "terse": (
        "pls check below",
        "pls see below and revert",
        "fyi",
        "pls check and revert",
        "see below pls",
        "pls handle",
        "?",
    ),
    "hinglish": (
        "neeche wala mail dekho please",
        "sir ye dekh lo, urgent hai",
        "bhai niche dekho aur reply karo",
        "ye mail dekh ke jaldi batao",
    ),
}

#: Subjects of an earlier mail that a customer replies on top of, by that mail's intent.
PRIOR_SUBJECTS = {
    "price_enquiry": (
        "Quotation for {product}",
        "Our offer - {product}",
        "Price list w.e.f. 1st of the month",
        "Rate enquiry - {product}",
    ),
    "purchase_order": ("Purchase Order {po}", "{po}", "Order confirmation - {po}"),
    "order_status": ("Dispatch details - {order}", "Material dispatched against {po}"),
    "invoice_payment": ("Invoice {invoice}", "Outstanding statement", "Payment reminder"),
    "coa_request": ("COA - {product}", "Test certificate - batch {batch}"),
    "sample_request": ("Sample dispatched - {product}",),
    "quality_complaint": ("Complaint - {invoice}",),
}

#: The body of that earlier mail (shown quoted, never counted).
PRIOR_TEXTS = {
    "price_enquiry": (
        "Please find our best offer for {product}: {rate} + GST, ex-godown. Offer valid for 3 days.",
        "Dear Sir,\n\nAs requested, our rate for {product} is {rate}, delivery within a week.",
    ),
    "purchase_order": (
        "Please find attached our {po}. Kindly confirm acceptance.",
        "We confirm receipt of your {po}. Material will be dispatched shortly.",
    ),
    "order_status": (
        "Material against {order} has been dispatched today. LR copy attached.",
        "Dear Sir,\n\nPlease note that your {po} is planned for dispatch this week.",
    ),
    "invoice_payment": (
        "Please find attached invoice {invoice}. Kindly release payment as per terms.",
        "Dear Sir,\n\nAs per our books an amount of {amount} is outstanding. Kindly arrange payment.",
    ),
    "coa_request": ("Please find attached the COA of {product}, batch {batch}.",),
    "sample_request": ("We have dispatched the sample of {product} by courier today.",),
    "quality_complaint": ("We have received your complaint and our QC team is checking it.",),
}

_extend(
    BODIES,
    {
        "price_enquiry": {
            "formal": (
                "We are in receipt of an enquiry from our end user for {product}. Kindly quote your lowest rate for {qty}, delivered {city}, along with validity of offer.",
                "Please send your quotation for {product} on the company letterhead. Quantity {qty}. Kindly mention HSN code, GST rate and delivery period.",
                "Kindly let us know whether you can supply {product} regularly. Please quote for {qty} for our {city} factory.",
            ),
            "terse": (
                "rate pls {product}",
                "{product}?? rate + availability",
                "quote {qty} {product} FOR {city} asap",
                "pls share todays price {product}. qty {qty}",
            ),
            "hinglish": (
                "sir ji {product} ka aaj ka bhav kya hai? {qty} ka order dena hai",
                "{product} available hai kya? rate batao {qty} ke liye",
                "bhai {city} delivery ka rate do {product}, {qty}",
            ),
        },
        "sample_request": {
            "formal": (
                "Kindly arrange to send a representative sample of {product} ({sample_qty}) along with COA, TDS and MSDS for approval by our customer.",
                "We wish to evaluate {product} from your source. Please courier {sample_qty} to our plant at {city} at the earliest.",
            ),
            "terse": (
                "sample {product} {sample_qty} pls. urgent for trial",
                "pls courier {product} sample tmrw",
            ),
            "hinglish": (
                "{product} ka sample chahiye {sample_qty}, kal tak bhej do",
                "sample bhejo ji {product} ka, customer ko dikhana hai",
                "bhai trial ke liye {sample_qty} {product} bhejna, COA ke saath",
            ),
        },
        "new_business": {
            "formal": (
                "We are a reputed {industry} company with our works at {city}. We wish to source {product} from you on a regular basis. Kindly send your vendor registration documents, cancelled cheque and GST certificate.",
                "Our management has decided to develop a second source for {product}. Please send your company profile, list of major customers and credit terms.",
            ),
            "terse": (
                "we need reliable supplier for {product}. can we meet?",
                "pls send catalogue and terms. {company}, {city}",
            ),
            "hinglish": (
                "sir hum naye customer hai, {product} har mahine chahiye, approx {qty}. milne aa sakte hai?",
                "hamara purana supplier band ho gaya, {product} aap de sakte ho kya? call karo",
                "namaskar ji, hum {company} se hai. {product} ke liye naya vendor chahiye, catalogue bhejo",
            ),
        },
        "purchase_order": {
            "formal": (
                "Please find attached our purchase order. Kindly acknowledge and confirm the dispatch schedule.",
                "PFA our {po} for your necessary action. Kindly mention the PO number on your invoice and send the COA along with material.",
                "This is a revised PO. Please note the quantity of {product} has been revised to {qty}; all other terms remain unchanged. {po}",
                "Kindly note the amendment in our {po}: rate revised to {rate} as per your latest offer. Please update your sales order accordingly.",
                "We are pleased to release our {po} for {qty} of {product}. Delivery required at our {city} plant by {date}.",
                "Please refer to our telephonic discussion. We confirm the order for {product}, {qty} at {rate}. Formal PO will follow. Kindly dispatch meanwhile.",
                "Please cancel our earlier PO and consider this amended {po} with quantity {qty} for {product}.",
            ),
            "terse": (
                "PFA PO",
                "PFA PO. pls ack",
                "please find attached our PO",
                "{po} attached. pls dispatch by {date}",
                "revised PO attached. qty changed to {qty}",
                "order: {product} {qty}. rate as discussed. {po}",
                "PO amendment - qty {qty}, rest same. {po}",
            ),
            "hinglish": (
                "PO attach kiya hai, dekh lo",
                "{product} ka naya PO bheja hai, {qty}. kal tak dispatch karo",
                "sir revised PO bhej raha hu, qty {qty} kar di hai. {po}",
                "order final hai ji, {product} {qty} @ {rate}, PO baad me bhejte hai",
            ),
        },
        "order_status": {
            "formal": (
                "This is our third reminder regarding the pending supply against {po}. Kindly confirm the dispatch date today itself, failing which we will be forced to cancel the order.",
                "Please confirm the delivery date for {product} against our {po}. Our stores need to plan the unloading.",
                "Kindly share the vehicle number, driver contact, LR copy and e-way bill for the material dispatched against {order}.",
                "We have received only part of the quantity against {order}. Kindly advise when the balance material will be dispatched.",
                "Kindly confirm the dispatch schedule of the pending quantity against our {po}; only one vehicle has reached so far.",
                "Kindly confirm that the material against our {po} will reach us by {date}, as committed by your sales team.",
                "Despite repeated reminders, the material against {po} has not been dispatched. Please escalate the matter to your management.",
                "Please share the courier docket number / tracking details for the consignment against {order}.",
            ),
            "terse": (
                "status?",
                "any update on {po}",
                "pls confirm dispatch date {order}",
                "vehicle no + LR copy pls. {order}",
                "eway bill pls for {po}",
                "2nd reminder. {po} material still not recd",
                "ETA of {product}? {po}",
                "balance qty kab? {order}",
                "part material recd against {po}, rest when?",
                "dispatched? {po}",
            ),
            "hinglish": (
                "bhai maal kab niklega? {po}",
                "dispatch hua kya {order}?",
                "gaadi ka number bhejo, {po} ka maal aaj aana tha",
                "LR copy bhejo please {order}",
                "sir ji abhi tak maal nahi aaya, {po}. kal tak pakka?",
                "aadha maal aaya hai {order} ka, baaki kab bhejoge?",
                "{po} ka baaki maal kab aayega? sirf aadha aaya hai",
                "e-way bill bhejo jaldi, gaadi gate pe khadi hai. {po}",
                "delivery date confirm karo {product} ka, {qty} pending hai",
            ),
        },
        "invoice_payment": {
            "formal": (
                "Please note that our payment cycle has changed. Payment against invoice {invoice} will be made on {date}.",
                "Kindly send the TDS certificate details; we have deducted TDS on invoice {invoice}.",
                "We have not received the credit note for the rate difference in invoice {invoice}. Kindly send it so that we can release the balance payment.",
                "Please find attached our payment advice for {amount} against your invoice {invoice}.",
            ),
            "terse": (
                "pmt released {amount}. pls check",
                "pls send ledger copy",
                "amt {amount} credited today. utr {utr}",
            ),
            "hinglish": (
                "bhugtan ho gaya hai {invoice} ka, UTR {utr}",
                "paisa kal tak aa jayega sir, {invoice}",
                "sir ji payment thoda late hoga, {invoice} ka. next week pakka",
                "ledger bhejo please, hisaab milana hai",
            ),
        },
        "coa_request": {
            "formal": (
                "Kindly send the COA, TDS and MSDS of {product} supplied against our {po}. Our QA will not accept the material without these documents.",
                "With reference to your invoice {invoice}, the COA was not received with the consignment. Please send the same by return mail.",
                "Please send batch-wise test certificates for {product} dispatched against {order}.",
            ),
            "terse": (
                "COA pls - {order}",
                "pls send TDS + MSDS {product}",
                "coa for {po}?",
                "test report pls batch {batch}",
                "COA missing. {invoice}",
            ),
            "hinglish": (
                "COA bhej do {po} ka, material hold pe hai",
                "sir {invoice} ka COA abhi tak nahi aaya, jaldi bhejo",
                "{product} ka MSDS aur TDS chahiye, customer maang raha hai",
                "batch {batch} ka test report bhejo ji",
                "{order} ke saath COA nahi aaya bhai, mail karo",
            ),
        },
        "quality_complaint": {
            "formal": (
                "The material supplied against our {po} ({product}, batch {batch}) has failed in our incoming inspection. Kindly arrange to lift the rejected quantity of {qty}.",
                "We have observed foreign particles in {product} supplied against {order}. Please investigate and send your CAPA report.",
                "The material received against invoice {invoice} is short by several bags. Kindly issue a credit note for the short quantity.",
                "Please note that {qty} of {product} supplied against {order} has been rejected by our QC. Debit note will follow.",
            ),
            "terse": (
                "{po} material rejected. pls arrange pickup",
                "batch {batch} failed. {product}. pls call urgently",
                "short qty recd against {invoice}",
            ),
            "hinglish": (
                "{order} ka maal kharab nikla, {qty} wapas le jao",
                "sir {po} ka material reject ho gaya, QC fail",
                "drum leak ho rahe hai {product} ke, {invoice}. credit note bhejo",
                "bori phati hui aayi hai, {product} me mitti mili hai. batch {batch}",
            ),
        },
    },
)

#: Chat-style abbreviations senders use in place of a word (applied to what they type).
ABBREVIATIONS = {
    "please": ("pls", "plz", "pl"),
    "Please": ("Pls", "Plz"),
    "Kindly": ("Kindly", "Pls"),
    "tomorrow": ("tmrw", "tmr"),
    "quantity": ("qty",),
    "Quantity": ("Qty",),
    "amount": ("amt",),
    "payment": ("pmt", "pymt"),
    "Payment": ("Pmt",),
    "received": ("rcvd", "recd", "rcd"),
    "dated": ("dt",),
    "regarding": ("regd", "reg."),
    "your": ("ur", "yr"),
    "you": ("u",),
    "thanks": ("thx", "tks"),
    "Thanks": ("Thx", "Tks"),
    "material": ("matl", "mat."),
    "immediately": ("immdtly",),
    "required": ("reqd",),
    "the earliest": ("the earliest", "earliest"),
    "as soon as possible": ("asap",),
    "at the earliest": ("asap", "at earliest"),
    "information": ("info",),
    "message": ("msg",),
    "because": ("coz", "bcoz"),
    "before": ("b4",),
    "delivery": ("dlvry",),
    "with": ("wid", "with"),
}

_extend(
    BODIES,
    {
        "tender_notice": {
            "formal": (
                "Dear Supplier,\n\nYou are invited to participate in the e-tender {tender_id} published by {company} for procurement of {product} ({qty}). Bid end date: {due_date}.",
                "Tender Summary\nReference No: {tender_id}\nProduct: {product}\nQty: {qty}\nTender Value: {amount}\nOpening Date: {due_date}\nState: {city}",
                "A new bid has been published on GeM matching your registered category ({product}). Bid No. {tender_id}, quantity {qty}, buyer {company}. Last date {due_date}.",
                "{company} requests your best quotation against enquiry {tender_id} for {product}, quantity {qty}, delivery at {city} stores. Quotations to reach by {due_date}.",
                "Extension of due date: tender {tender_id} for {product} ({qty}) of {company} now closes on {due_date}.",
                "Two-bid system tender {tender_id}: technical and price bids invited for {product}, quantity {qty}. EMD {amount}. Bid due {due_date}.",
                "Daily tender digest\n\n1. {company}, {city}: supply of {product}, qty {qty}, ref {tender_id}, closing {due_date}",
                "Open tender for rate contract of {product} for two years. Tender No {tender_id}, {company}. Estimated quantity {qty} per annum. Due date {due_date}.",
                "Short tender notice {tender_id}: urgent requirement of {product} ({qty}) at {company}, {city}. Offers by {due_date}.",
                "Reverse auction notice for {product} against tender {tender_id}. Participants are requested to log in before {due_date}.",
            )
        }
    },
)
