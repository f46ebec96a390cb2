"""The HubSpot sync: leadflow's leads, contacts, companies, owners and hot leads' deals kept
in step with HubSpot through its official client, from the notification outbox.

`client` opens the client (base URL, token, the 429/5xx retry policy), `sync` pushes a lead
and reads owners back, `outbox` queues a lead's sync as an outbox row. Tested against a
local server that validates bodies with the client's own models, not against the live
service (README, "HubSpot").
"""
