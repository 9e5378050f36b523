"""Devices on trial: shipments, returns, device extensions and demo orders (R-DEV, R-RMA, R-EXT-02)."""
