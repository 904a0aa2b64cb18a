"""Mail connector: drop folders (.eml, mbox, Maildir) and IMAP into ``raw.emails``."""
