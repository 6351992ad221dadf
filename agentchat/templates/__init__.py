"""WhatsApp message templates: synced from Meta, kept current by its webhook, sent by agents to reopen a
conversation outside the 24-hour window."""
