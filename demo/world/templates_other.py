"""Phrasings for the 'other' stream: bulk mail and spam, and automatic replies.

Each kind of message is built from independent parts (sender, subject, opener, pitch,
offer, call to action, sign-off, footer), so the combinations multiply. Slots are the same
as in `templates` plus a few of their own, filled as plain text (never entities): sender,
sender_co, first, web, link, ticket, fair, venue, fair_dates, webinar, when_text, usd_lines,
addr, alt_email, holiday, subject (the answered mail's subject), sent, read_at, mailbox.

Rules that keep ground truth exact: chemicals are only ever named through `{product}` or
`{offer_lines}`, quantities through `{qty}`, rupee amounts through `{rate}`/`{amount}`.
Prices in foreign currency (`1,150 USD/MT`) are plain text: PRICE entities are rupees.
"""

from __future__ import annotations

# -- bulk mail and spam -------------------------------------------------------------------

CN_FIRST = ("Linda", "Amy", "Jack", "Cherry", "Sunny", "Kevin", "Alice", "Tina", "Lucy", "Eric")
CN_COMPANY = (
    "Shandong {x} Chemical Co., Ltd",
    "Hebei {x} Trading Co., Ltd",
    "Qingdao {x} International Trade Co., Ltd",
    "Zhejiang {x} New Material Co., Ltd",
    "Jiangsu {x} Import & Export Co., Ltd",
)
CN_X = ("Jinhai", "Hengxin", "Longsheng", "Ruifeng", "Tianyuan", "Huarong", "Xinda", "Baoli")
IN_NAMES = (
    "Rakesh Patel",
    "Jignesh Shah",
    "Mahesh Agarwal",
    "Nilesh Mehta",
    "Suresh Reddy",
    "Ankit Jain",
    "Deepak Gupta",
    "Hardik Desai",
)
IN_COMPANY = ("{x} Chemicals", "{x} Industries", "{x} Petrochem Pvt Ltd", "{x} Organics LLP")
IN_X = ("Shree Ganesh", "Balaji", "Maruti", "Umiya", "Sai", "Jay Ambe", "Vardhman", "Navkar")
IN_CITY = ("Vapi", "Ankleshwar", "Dahej", "Bharuch", "Tarapur", "Ahmedabad", "Hyderabad")
PORTS = ("Nhava Sheva", "Mundra", "Chennai", "Kolkata", "Hazira")

COLD_CN = {
    "subjects": (
        "{product} supplier from China",
        "Best price of {product} - {sender_co}",
        "Re: {product} offer",
        "Quotation for {product} // {sender_co}",
        "Factory direct {product}, CIF India",
        "Inquiry: do you need {product}?",
        "New price {product} this week",
    ),
    "openers": (
        "Dear Purchase Manager,",
        "Dear Sir/Madam,",
        "Dear friend,",
        "Hello dear,",
        "Dear Manager,",
        "Good day!",
    ),
    "intros": (
        "This is {first} from {sender_co}. We are professional manufacturer of chemical raw materials with 15 years experience.",
        "Glad to hear that you are in the market for chemicals. We are a leading exporter in China.",
        "I got your information from the internet and learn you are importer of chemicals in India.",
        "Nice day! This is {first}, sales manager of {sender_co}.",
        "We have exported to India for many years, our main customers are in Mumbai and Gujarat.",
    ),
    "offers": (
        "Our hot selling products and latest price:\n{usd_lines}",
        "Now we can offer you:\n{usd_lines}\nPayment term: TT or LC at sight.",
        "Special offer this month:\n{usd_lines}\nMOQ: {qty}",
        "Below is our competitive price for your reference:\n{usd_lines}\nPacking: bags or jumbo bags.",
    ),
    "ctas": (
        "If any interest, please feel free to contact me. Free sample is available.",
        "Could you tell me your monthly requirement? We will give you best price.",
        "Looking forward to your inquiry. WhatsApp/WeChat same number.",
        "Please reply with your target price and quantity.",
        "Wish we can build long term business relationship.",
    ),
    "signoffs": (
        "Best regards,\n{first}",
        "Best wishes,\n{first}\n{sender_co}",
        "Thanks & regards,\n{first}",
    ),
}
COLD_IN = {
    "subjects": (
        "Manufacturer of {product}",
        "Ready stock {product} - {sender_co}",
        "Offer for {product}",
        "Introduction - {sender_co}",
        "Direct from manufacturer: {product}",
        "Offer valid till stocks last - {sender_co}",
        "{product} available at best rate",
    ),
    "openers": (
        "Dear Purchase Manager,",
        "Respected Sir,",
        "Dear Sir,",
        "Greetings from {sender_co}!",
        "Namaste sir,",
    ),
    "intros": (
        "We are manufacturer and exporter of specialty chemicals from our plant at {city}.",
        "We take this opportunity to introduce ourselves as a leading supplier of industrial chemicals based at {city}.",
        "{sender_co} is an ISO 9001:2015 certified company with a strong presence in Gujarat and Maharashtra.",
        "Hum {city} se chemical manufacturer hai, aapke area me supply karte hai.",
    ),
    "offers": (
        "We have ready stock of {product} and can offer {rate} + GST, ex-works {city}.",
        "Our current offer for {product} is {rate}, delivered Mumbai, minimum order {qty}.",
        "We can supply {product} in bulk on regular basis at very competitive price.",
        "{product} ka rate {rate} hai, ready stock me hai.",
        "Please find our product list: {product} and other solvents, acids and pigments.",
    ),
    "ctas": (
        "Please share your monthly requirement for our best rates.",
        "Please send your enquiry and we will revert with our best offer.",
        "Our representative will be happy to visit your office.",
        "Ek baar trial order dijiye, quality se satisfied honge.",
        "Kindly share your requirement on WhatsApp.",
    ),
    "signoffs": (
        "Thanks & Regards,\n{sender}\n{sender_co}",
        "Regards,\n{sender}\nMarketing Dept.",
        "{sender}\n{sender_co}, {city}",
    ),
}
SERVICE = {
    "subjects": (
        "Get your website on Google page 1",
        "Re: Website proposal",
        "Increase your sales 300%",
        "Website redesign for {ourco}",
        "GST return filing - hassle free",
        "Business loan at lowest interest",
        "Pre-approved business loan for your company",
        "Health insurance for your employees",
        "Bulk WhatsApp marketing software",
        "Your Google Business listing is incomplete",
        "Mobile app development offer",
        "Tally on cloud - access from anywhere",
        "Digital marketing for chemical companies",
        "Buyers database of chemical industry",
        "Sir ek minute",
        "Loan chahiye?",
        "Quick question",
        "Following up",
    ),
    "openers": (
        "Dear Business Owner,",
        "Hi,",
        "Hello Sir,",
        "Dear Sir/Madam,",
        "Hi there,",
        "Namaste sir,",
        "Dear {ourco} team,",
    ),
    "pitches": (
        "I noticed your website is not ranking on Google for important keywords. We can get you to page 1 in 30 days.",
        "We offer SEO, SMM and website design at lowest prices. Our packages start from {amount} per month.",
        "Your website looks outdated and is not mobile friendly. We can redesign it with a modern look.",
        "We are a team of chartered accountants offering GST return filing, TDS returns and bookkeeping for traders.",
        "Get an unsecured business loan up to {amount} without collateral, disbursal in 48 hours.",
        "Protect your employees with group health insurance at the lowest premium.",
        "Send unlimited WhatsApp messages to your customers with our bulk sender software.",
        "We have a verified database of buyers from paint, rubber and pharma industries.",
        "Aapki website Google pe first page pe nahi aa rahi. Hum 30 din me ranking la denge.",
        "Business loan chahiye? {amount} tak ka loan, bina guarantee ke, 2 din me.",
        "GST filing ki tension chhodiye, hum sab sambhal lenge, bahut kam fees me.",
        "We develop custom mobile apps for distributors to take orders from dealers.",
        "Access your Tally data from anywhere with our secure cloud hosting.",
    ),
    "ctas": (
        "Reply for a free audit.",
        "Please share your number for a quick call.",
        "Can we schedule a 10-minute call this week?",
        "Reply YES to know more.",
        "Ek baar call kijiye ya apna number bhejiye.",
        "Limited period offer, reply today.",
        "Just reply to this email and I will send you the details.",
    ),
    "signoffs": (
        "Thanks,\n{sender}",
        "Regards,\n{sender}\nBusiness Development",
        "{sender}\n{sender_co}",
        "Best,\n{first}",
    ),
}
FAIR = {
    "subjects": (
        "Invitation: {fair}, {venue}",
        "Last chance to book your stall at {fair}",
        "You are invited - {fair} ({fair_dates})",
        "Free visitor registration: {fair}",
        "Exhibitor space filling fast - {fair}",
        "Meet 500+ buyers at {fair}",
    ),
    "openers": (
        "Dear Industry Professional,",
        "Dear Sir/Madam,",
        "Dear Exhibitor,",
        "Greetings from the organisers of {fair}!",
    ),
    "pitches": (
        "We are pleased to invite you to {fair}, to be held on {fair_dates} at {venue}.",
        "Join 500+ exhibitors at one of Asia's largest chemicals expos, {fair_dates}, {venue}.",
        "{fair} brings together manufacturers, traders and buyers of {product} and other chemicals.",
        "Book your stall today at a special early bird rate of {amount}.",
        "Register now for free visitor passes and meet manufacturers of {product} and more.",
    ),
    "ctas": (
        "Register online at {link}",
        "For stall booking contact us on the number below.",
        "Hurry, limited stalls available.",
        "Show this mail at the registration desk for free entry.",
    ),
    "signoffs": ("Team {fair}", "Warm regards,\nEvent Team", "Organising Committee\n{fair}"),
}
WEBINAR = {
    "subjects": (
        "Webinar: {webinar}",
        "Free webinar - {webinar} ({when_text})",
        "Reminder: {webinar} starts soon",
        "Register now: {webinar}",
        "Last few seats - {webinar}",
    ),
    "openers": ("Dear Professional,", "Hi,", "Dear Sir/Madam,", "Dear Member,"),
    "pitches": (
        "Join our live session on {webinar} on {when_text}.",
        "Our experts will explain {webinar} with practical examples for traders and distributors.",
        "In this free webinar you will learn {webinar} and get your questions answered live.",
        "Seats are limited. Certificate of participation will be provided.",
    ),
    "ctas": (
        "Register free: {link}",
        "Click here to reserve your seat: {link}",
        "Add to calendar and join on time.",
    ),
    "signoffs": ("Team Learning", "Regards,\nWebinar Desk", "Team {sender_co}"),
}
NEWS = {
    "subjects": (
        "{product} prices firm at {rate} in Mumbai market",
        "Weekly price trends: {product} steady, solvents soft",
        "Market watch: {product} at {rate}",
        "Chemical market update - week {week}",
        "GST Council decisions: what changes for chemical traders",
        "E-invoicing threshold update",
        "Monsoon demand outlook for {product}",
        "Import data: {product} arrivals up this month",
    ),
    "openers": ("", "Dear Subscriber,", "Dear Reader,", "This week in chemicals:"),
    "pitches": (
        "This week {product} traded at {rate} ex-Mumbai on steady demand from downstream users. Solvent prices eased on higher imports.",
        "Market update: {product} was quoted at {rate} in Ahmedabad. Buyers remain cautious ahead of the festive season.",
        "Read our analysis of the latest GST notifications and their impact on e-way bills and e-invoicing for traders.",
        "Demand for {product} from the detergent and paint sectors remained subdued; prices held at {rate}.",
        "Freight rates from China eased further, and port congestion at Nhava Sheva has cleared.",
        "Upcoming: anti-dumping duty review on select chemical imports. Subscribe to premium for full coverage.",
    ),
    "ctas": (
        "Read more on our website.",
        "Subscribe to premium for daily prices.",
        "Forward this to a colleague.",
        "",
    ),
    "signoffs": ("Editorial Team", "Team Market Desk", ""),
}
PORTAL = {
    "subjects": (
        "Buyer requirement: {product}",
        "New buy lead - {product} ({qty})",
        "10 new buy leads for your products",
        "Buyers are looking for {product}",
        "{first} from {city} is looking for {product}",
        "Enquiry for {product} from a verified buyer",
        "BuyLead Alert: {product}",
    ),
    "openers": ("Dear Supplier,", "Dear Member,", "Hello,", "Dear {ourco},"),
    "pitches": (
        "Buyer requirement\nProduct: {product}\nQuantity: {qty}\nLocation: {city}\nBuyer: {first} (mobile verified)",
        "A buyer from {city} needs {product}, quantity {qty}. Contact details are available in your lead manager.",
        "Buyers near you are looking for {product}. Upgrade to a premium plan to contact them now.",
        "You have new enquiries waiting. Log in to view buyer details and respond before your competitors.",
        "Requirement: {product} | Qty: {qty} | Usage: industrial | Purchase period: within a week",
    ),
    "ctas": (
        "Reply now: {link}",
        "This lead is shared with 5 suppliers only. Act fast.",
        "Upgrade to Gold membership to get 3x more leads.",
        "View buyer contact: {link}",
    ),
    "signoffs": ("Team {sender}", "Regards,\n{sender} Lead Manager", "Customer Care, {sender}"),
}
PHISH = {
    "subjects": (
        "Your mailbox is almost full",
        "ACTION REQUIRED: verify your account",
        "Password expiry notice for {mailbox}",
        "Invoice payment pending - view document",
        "You have received a secure document",
        "Payment advice - remittance copy",
        "Your GST refund is approved",
        "Undelivered parcel: customs charges due",
        "KYC update required for your bank account",
        "Re: Outstanding invoice",
        "Shared: Purchase_Order_Scan.pdf",
    ),
    "openers": ("Dear {mailbox},", "Dear User,", "Hello,", "Dear Customer,", "Attention,"),
    "pitches": (
        "Your mailbox has exceeded its storage limit 99.8%. You will not be able to send or receive new mails until you verify.",
        "We detected unusual sign-in activity on your account. Verify your account within 24 hours to avoid suspension.",
        "Your email password expires today. Keep the same password by clicking below.",
        "Please find the attached invoice for immediate payment. View the document using the secure link below.",
        "A document has been shared with you via OneDrive. Sign in with your email credentials to view it.",
        "Your GST refund of {amount} has been approved. Submit your bank details to receive it.",
        "Your parcel could not be delivered due to unpaid customs duty. Pay now to reschedule delivery.",
        "Your bank KYC is pending. Your account will be blocked today if not updated.",
        "Payment has been made to your account. Find the remittance copy here.",
    ),
    "ctas": (
        "Verify now: {link}",
        "Click here: {link}",
        "View document: {link}",
        "Update now: {link}",
        "Login here {link} to continue.",
    ),
    "signoffs": (
        "Mail Administrator",
        "IT Helpdesk",
        "Webmail Support Team",
        "Accounts Dept.",
        "Security Team",
    ),
}
LOTTERY = {
    "subjects": ("Congratulations! You have won", "CLAIM YOUR PRIZE NOW", "Winning notification"),
    "openers": ("Dear Winner,", "Attention Beneficiary,", "Dear Friend,"),
    "pitches": (
        "Your email was selected in our annual draw. Send your bank details to claim the prize of {amount}.",
        "URGENT: your prize will expire today. Reply with your name, address and PAN to claim.",
        "I am a banker and have a confidential business proposal that will benefit us both.",
    ),
    "ctas": (
        "Reply immediately.",
        "Contact our claims agent today.",
        "Keep this strictly confidential.",
    ),
    "signoffs": ("Claims Department", "Barrister {sender}", "Mr. {sender}"),
}

#: name -> (part table, weight, bulk-headers probability, layouts)
BULK_KINDS = {
    "news": (NEWS, 14, 0.95, ("html", "alternative")),
    "cold_cn": (COLD_CN, 11, 0.05, ("plain", "plain", "alternative", "html")),
    "cold_in": (COLD_IN, 11, 0.15, ("plain", "plain", "alternative")),
    "service": (SERVICE, 17, 0.35, ("plain", "alternative", "html")),
    "fair": (FAIR, 8, 0.9, ("html", "alternative")),
    "webinar": (WEBINAR, 7, 0.9, ("html", "alternative")),
    "portal": (PORTAL, 16, 0.8, ("html", "alternative", "plain")),
    "phish": (PHISH, 12, 0.0, ("html", "plain", "alternative")),
    "lottery": (LOTTERY, 3, 0.0, ("plain",)),
}
NEWS_SENDERS = (
    ("Chemical Market Weekly", "news@chemweekly-digest.in"),
    ("GST Updates", "updates@gst-compliance-news.in"),
    ("ChemBiz Daily", "daily@chembizdaily.co.in"),
    ("Petrochem Prices India", "prices@petrochemprices.in"),
)
SERVICE_SENDERS = (
    ("SEO Experts", "rank1seo.services@gmail.com"),
    ("Ravi | Web Solutions", "ravi.websolutions@gmail.com"),
    ("Tax Mitra Consultants", "info@taxmitra-filing.in"),
    ("Quick Business Loans", "offers@quickbizloan.co.in"),
    ("Neha from SecureLife Insurance", "neha.k@securelife-ins.in"),
    ("WA Bulk Sender", "sales@wabulksender.in"),
    ("AppCraft Technologies", "hello@appcraft-tech.in"),
    ("CloudTally Hosting", "sales@cloudtallyhost.com"),
    ("Amit - Digital Growth", "amit.digitalgrowth@outlook.com"),
)
FAIRS = (
    ("India Chem Expo 2025", "Bombay Exhibition Centre, Goregaon, Mumbai", "4-6 December 2025"),
    ("ChemTech World Expo", "Pragati Maidan, New Delhi", "15-17 January 2026"),
    ("Paint & Coatings Expo India", "Helipad Exhibition Centre, Gandhinagar", "22-24 January 2026"),
    ("Rubber Tech India", "BIEC, Bengaluru", "11-13 February 2026"),
    ("PharmaChem Connect", "Hitex, Hyderabad", "5-7 March 2026"),
)
WEBINARS = (
    "GST e-invoicing for chemical traders",
    "managing working capital in a distribution business",
    "BIS quality control orders for chemical imports",
    "exporting specialty chemicals to Africa",
    "safe storage and handling of hazardous chemicals",
    "using WhatsApp to sell to industrial buyers",
)
PORTAL_SENDERS = (
    ("IndiaMART Buy Leads", "buyleads@indiamart-alerts.net"),
    ("TradeIndia", "leads@tradeindia-mailer.com"),
    ("ExportersIndia", "buyleads@exportersindia-notify.com"),
    ("Justdial", "leads@justdial-notify.in"),
    ("Chemical Buyers Hub", "alerts@chembuyershub.in"),
)
PHISH_SENDERS = (
    ("Mail Administrator", "admin@mailbox-quota-alert.com"),
    ("Microsoft 365", "no-reply@m365-secure-verify.net"),
    ("Webmail Support", "support@webmail-upgrade.info"),
    ("Accounts Dept", "accounts.dept2025@gmail.com"),
    ("OneDrive", "share@onedrive-docs-view.com"),
    ("Income Tax Department", "refund@gst-refund-portal.co"),
    ("BlueDart Courier", "delivery@bluedart-parcel-track.com"),
    ("HDFC Bank", "kyc@hdfc-kyc-update.in"),
)
LOTTERY_SENDERS = (
    ("Lucky Draw Team", "claims@lucky-winner-india.co"),
    ("Mr. James Williams", "jameswilliams.bank@outlook.com"),
)
LINKS = (
    "http://bit.ly/3xQz{n}",
    "https://{domain}/r/{n}",
    "http://{domain}/login?id={n}",
    "https://forms.gle/a{n}",
)

# -- automatic replies --------------------------------------------------------------------

#: Subjects of our own outgoing mails that an automatic reply answers.
OUR_SUBJECTS = (
    "Quotation for {product}",
    "Our offer - {product}",
    "Outstanding statement",
    "Payment reminder - {invoice}",
    "Dispatch details - {invoice}",
    "Invoice {invoice}",
    "Order confirmation - {order}",
    "Proforma invoice against your {po}",
    "Price revision w.e.f. 1st of next month",
    "Diwali greetings from {ourco}",
    "COA - {product}",
    "Ledger confirmation",
    "New product launch",
)
OOO_OPENERS = (
    "Thank you for your email.",
    "Thanks for your mail.",
    "Greetings!",
    "",
    "Hello,",
    "Dear Sender,",
    "Auto reply:",
)
OOO_ABSENCE = (
    "I am out of office from {date} to {due_date}",
    "I am on leave till {due_date}",
    "I am travelling and will be back on {due_date}",
    "I am on medical leave until {due_date}",
    "I am attending a training programme from {date} to {due_date}",
    "I am away on a business trip until {due_date}",
    "I am currently at our plant for an audit till {due_date}",
    "I am on annual leave and will return on {due_date}",
)
OOO_ACCESS = (
    " with limited access to email.",
    " and will not be checking mails.",
    ".",
    " with intermittent access to mail.",
    " and will respond on my return.",
)
OOO_ALT = (
    "For urgent matters please contact {name} on {phone}.",
    "In my absence please write to {alt_email}.",
    "Your mail will not be forwarded.",
    "For purchase related queries please contact {alt_email}.",
    "Kindly call {phone} for anything urgent.",
    "",
)
HOLIDAY_BODIES = (
    "Wishing you a very Happy {holiday}! Our office will remain closed from {date} to {due_date} on account of {holiday}. We will respond to your mail once we resume.",
    "Thank you for your mail. Our office is closed for {holiday} and will reopen on {due_date}.",
    "Season's greetings! Due to {holiday} holidays our office and plant will be closed till {due_date}. Mails will be attended after we resume.",
    "Dear Business Associate, on the auspicious occasion of {holiday} our office is closed. Your mail will be answered on {due_date}.",
)
LEAVE_BODIES = (
    "Please note that I will be on leave from {date} to {due_date}. During this period please coordinate with {name} ({alt_email}).",
    "Main {due_date} tak chutti par hoon. Urgent kaam ke liye {name} ko call karein: {phone}.",
    "I am on paternity leave until {due_date}. Please contact {alt_email} for all purchase matters.",
)
TICKET_SUBJECTS = (
    "[Ticket #{ticket}] {subject}",
    "Your request #{ticket} has been received",
    "Request received: {subject}",
    "[#{ticket}] Acknowledgement",
    "Case {ticket} created - {subject}",
)
TICKET_BODIES = (
    "Thank you for contacting {company} support. Your request #{ticket} has been received and our team will get back to you within 2 working days.",
    "This is an automated acknowledgement. A ticket (#{ticket}) has been created for your mail. Please quote this number in future correspondence.",
    "Dear Customer,\n\nWe have received your email. Your reference number is {ticket}. Please do not reply to this message.",
    "Hello,\n\nYour query has been logged as case {ticket}. Our helpdesk is available Monday to Saturday, 9:30 am to 6 pm.",
)
AP_SUBJECTS = (
    "Invoice received - {invoice}",
    "Acknowledgement: {invoice}",
    "Auto-acknowledgement from Accounts Payable",
    "Vendor portal: document uploaded",
    "Your invoice has been received",
)
AP_BODIES = (
    "Dear Vendor,\n\nWe acknowledge receipt of your invoice {invoice}. It has been forwarded for processing and will be paid as per agreed terms. Please do not reply to this mail.",
    "This is a system generated mail. Invoice {invoice} has been registered in our accounts payable system under document ID {ticket}.",
    "Dear Supplier, your invoice {invoice} has been uploaded successfully on the supplier portal. You can track its status by logging in with your vendor code.",
    "Thank you. Invoices sent to this mailbox are processed automatically. Invoices without a valid PO reference will be returned.",
    "Dear Vendor, please note that invoices are accepted only through the vendor portal from 1st of next month. This mailbox is for acknowledgement only.",
)
NOREPLY_BODIES = (
    "This mailbox is not monitored. Please send purchase enquiries to {alt_email}.",
    "This is an unmonitored mailbox. Replies to this address are not read. For assistance write to {alt_email}.",
    "Please do not reply to this email. This address is used only for sending notifications.",
    "Your mail to this address has not been delivered to any person. Kindly write to {alt_email}.",
)
MOVED_BODIES = (
    "Please note that my email ID has changed. Kindly send all future mails to {alt_email}.",
    "I have moved on from {company}. Please write to {alt_email} for all matters related to purchase.",
    "This email address is no longer in use. Your message has not been forwarded. Please resend it to {alt_email}.",
    "Kindly update your records: our new email address is {alt_email} with immediate effect.",
)
READ_BODY = (
    "Your message\n\n  To: {addr}\n  Subject: {subject}\n  Sent: {sent}\n\nwas read on {read_at}."
)
DELIVERED_BODIES = (
    "Your message has been delivered to the following recipients:\n\n{addr}\n\nSubject: {subject}",
    "Delivery to these recipients or groups is complete, but no delivery notification was sent by the destination server:\n\n{addr}\n\nSubject: {subject}",
)
#: Indian festivals in the world's window: (name, first day, last day) as (month, day) pairs.
HOLIDAYS = (
    ("Bakri Eid", (6, 6), (6, 8)),
    ("Independence Day", (8, 14), (8, 16)),
    ("Raksha Bandhan", (8, 8), (8, 10)),
    ("Ganesh Chaturthi", (8, 26), (8, 29)),
    ("Onam", (9, 4), (9, 6)),
    ("Navratri", (9, 22), (9, 30)),
    ("Dussehra", (10, 1), (10, 3)),
    ("Diwali", (10, 18), (10, 26)),
    ("Chhath Puja", (10, 27), (10, 29)),
    ("Guru Nanak Jayanti", (11, 4), (11, 6)),
)
