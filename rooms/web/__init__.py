"""The web side: socket routing, PeerChannel and the owner monitor; runs in daphne."""
