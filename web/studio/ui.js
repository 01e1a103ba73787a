// Small helpers shared by the views: elements, the problem banner, notices, busy buttons.
import { ApiProblem } from "./api.js";

export const $ = (id) => document.getElementById(id);

/** An element with attributes and children (strings become text, never HTML). */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Shows an error: an API problem as its title and detail (and field errors), anything else as text. */
export function showProblem(error) {
  if (error && error.name === "AbortError") return;
  const problem = error instanceof ApiProblem ? error : new ApiProblem(0, { title: "Something went wrong", detail: String(error && error.message || error) });
  $("problem-title").textContent = problem.title;
  const detail = [problem.detail, problem.requestId ? `(request ${problem.requestId})` : ""].filter(Boolean).join(" ");
  $("problem-detail").textContent = detail;
  $("problem-detail").hidden = !detail;
  const fields = $("problem-fields");
  fields.replaceChildren(...Object.entries(problem.errors || {}).map(([field, message]) => el("li", {}, `${field}: ${message}`)));
  fields.hidden = fields.children.length === 0;
  $("problem").hidden = false;
  $("problem").dataset.type = problem.slug;
  $("problem").scrollIntoView({ block: "nearest" });
}

export function clearProblem() {
  $("problem").hidden = true;
}

let noticeTimer = null;
export function notify(text) {
  const notice = $("notice");
  notice.textContent = text;
  notice.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => { notice.hidden = true; }, 6000);
}

/** Runs `work` with `button` disabled (a double click sends nothing twice); problems are shown. */
export async function busy(button, work) {
  if (button.disabled) return undefined;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    clearProblem();
    return await work();
  } catch (error) {
    showProblem(error);
    return undefined;
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

export function formatSeconds(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "unknown";
  if (seconds < 1) return "under a second";
  if (seconds < 90) return `${Math.round(seconds)} s`;
  return `${Math.round(seconds / 60)} min`;
}

/** Seconds from now until an ISO timestamp (never negative), or null. */
export function secondsUntil(timestamp) {
  if (!timestamp) return null;
  return Math.max(0, (Date.parse(timestamp) - Date.now()) / 1000);
}

/** The base64 of a file (for PNG inputs the API takes inline). */
export function fileBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ""));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}
