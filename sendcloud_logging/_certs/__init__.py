"""The self-signed certificate and key of the local test shop (``sendcloud_logging.shop``); never for production."""
