// A job's server-sent events, read with fetch() so the request can carry the Authorization header
// (EventSource cannot). After a network drop the stream is opened again with Last-Event-ID, so only
// what followed the last event seen arrives; it ends at succeeded, failed or canceled.
import { accessToken, ApiProblem, problemOf, refreshTokens } from "./api.js";

const TERMINAL = new Set(["succeeded", "failed", "canceled"]);

/**
 * Follows `/api/v1/generations/{id}/events`, calling `onEvent(name, data)` for each event and
 * `onState(state)` with "live", "reconnecting" or "ended". Returns a function that stops it.
 * `onProblem(problem)` gets an API problem that ends the stream (404, 401 after a refresh).
 */
export function followJob(id, { onEvent, onState = () => {}, onProblem = () => {} }) {
  const controller = new AbortController();
  let lastEventId = null;
  let ended = false;
  let failures = 0;

  const run = async () => {
    while (!ended && !controller.signal.aborted) {
      try {
        const token = await accessToken();
        const headers = { Accept: "text/event-stream" };
        if (token) headers.Authorization = `Bearer ${token}`;
        if (lastEventId !== null) headers["Last-Event-ID"] = lastEventId;
        const response = await fetch(`/api/v1/generations/${encodeURIComponent(id)}/events`, {
          headers, signal: controller.signal, cache: "no-store",
        });
        if (response.status === 401 && failures === 0) {
          failures += 1;
          await refreshTokens();
          continue;
        }
        if (!response.ok) {
          const problem = await problemOf(response);
          if (response.status >= 500 || response.status === 429) throw problem;
          ended = true;
          onProblem(problem);
          break;
        }
        onState("live");
        failures = 0;
        await read(response.body, (event) => {
          if (event.id !== null) lastEventId = event.id;
          let data = null;
          try { data = event.data ? JSON.parse(event.data) : null; } catch { data = event.data; }
          onEvent(event.name, data);
          if (TERMINAL.has(event.name)) ended = true;
        });
        if (ended) break;
        throw new Error("the stream closed before the job ended");
      } catch (error) {
        if (controller.signal.aborted || ended) break;
        failures += 1;
        onState("reconnecting");
        if (error instanceof ApiProblem && error.status && error.status < 500 && error.status !== 429) {
          ended = true;
          onProblem(error);
          break;
        }
        await pause(Math.min(500 * 2 ** Math.min(failures - 1, 4), 8000), controller.signal);
      }
    }
    onState("ended");
  };
  run();
  return () => {
    ended = true;
    controller.abort();
  };
}

function pause(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => { clearTimeout(timer); resolve(); }, { once: true });
  });
}

/** Parses the text/event-stream body, calling `emit({id, name, data})` per event (comments skipped). */
async function read(body, emit) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let event = { id: null, name: "message", data: [] };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let newline;
    while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + (buffer.startsWith("\r\n", newline) ? 2 : 1));
      if (line === "") {
        if (event.data.length > 0) emit({ id: event.id, name: event.name, data: event.data.join("\n") });
        event = { id: null, name: "message", data: [] };
        continue;
      }
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "id") event.id = value;
      else if (field === "event") event.name = value;
      else if (field === "data") event.data.push(value);
    }
  }
}
