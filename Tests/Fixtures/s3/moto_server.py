#!/usr/bin/env python3
"""moto's S3 server on 127.0.0.1:<port> for the tests (pip install 'moto[server]').

Exits when its parent (the test process) has gone, so an aborted test run leaves no server behind.
"""
import os
import sys
import time

from moto.server import ThreadedMotoServer

port = int(sys.argv[1])
parent = os.getppid()
server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
server.start()
print(f"moto listening on 127.0.0.1:{port}", flush=True)
while os.getppid() == parent:
    time.sleep(0.5)
server.stop()
