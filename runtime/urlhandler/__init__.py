"""pyserial URL handlers shipped by spikefab (``serial.protocol_handler_packages`` entry).

``faulty://`` (:mod:`.protocol_faulty`): a link shim that drops, flips, duplicates and delays
bytes at seeded rates, for testing that the host protocol survives a noisy UART.
"""
