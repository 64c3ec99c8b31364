"""WhatsApp through Meta's WhatsApp Business Cloud API (issue 23).

Optional and per business: an owner connects the business's own WhatsApp number
(``routes``); every call to Meta goes through ``cloud_api``; the access token is kept
sealed (``pymes.sealing``). Without a connection nothing changes: WhatsApp stays the
``wa.me`` links a person taps."""
