#!/usr/bin/env python3
"""An OTLP/HTTP trace receiver on 127.0.0.1:<port>: POST /v1/traces with a protobuf
ExportTraceServiceRequest is decoded with the opentelemetry-proto package (so a malformed export
fails here, with 400) and each span is appended to <output> as one JSON line: service, trace_id,
span_id, parent_span_id (hex), name, kind, start and end (ns), status code. GET / answers 200.
Exits with its parent."""
import json
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from loopback import QuietHandler, serve_until_parent_exits  # noqa: E402
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

port, output = int(sys.argv[1]), sys.argv[2]
lock = threading.Lock()


class Handler(QuietHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path != "/v1/traces" or self.headers.get("Content-Type") != "application/x-protobuf":
            self.answer(404, b"")
            return
        request = ExportTraceServiceRequest()
        try:
            request.ParseFromString(body)
        except Exception as error:  # noqa: BLE001 - any decoding failure is the client's
            self.answer(400, str(error).encode())
            return
        lines = []
        for resource_spans in request.resource_spans:
            service = next((a.value.string_value for a in resource_spans.resource.attributes if a.key == "service.name"), "")
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    lines.append(json.dumps({
                        "service": service, "trace_id": span.trace_id.hex(), "span_id": span.span_id.hex(),
                        "parent_span_id": span.parent_span_id.hex(), "name": span.name, "kind": span.kind,
                        "start": span.start_time_unix_nano, "end": span.end_time_unix_nano, "status": span.status.code,
                        "attributes": {a.key: a.value.WhichOneof("value") and getattr(a.value, a.value.WhichOneof("value"))
                                       for a in span.attributes},
                    }))
        with lock, open(output, "a") as f:
            for line in lines:
                f.write(line + "\n")
        self.answer(200, ExportTraceServiceResponse().SerializeToString(), "application/x-protobuf")

    def do_GET(self):
        self.answer(200, b"ok")



serve_until_parent_exits(port, Handler)
