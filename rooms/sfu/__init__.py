"""The Room (SFU) of a live room: media events, aiortc endpoints, RTP forwarding."""
