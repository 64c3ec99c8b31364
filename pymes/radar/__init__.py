"""The weekly key-client radar for owners (issue 23, point 4): who needs the owner's
attention this week — key clients past their tier's contact pace, clients who dropped a
tier, promoters never asked for a referral, complaints close to their deadline — each
with its one-tap action, by e-mail once per ISO week (``pymes send-radar``)."""
