// The Generate view: the model picker (live availability), the request form with its price, and
// the jobs list that follows each job's event stream until it ends.
import { api, ApiProblem, idempotencyKey, imageURL } from "./api.js";
import { followJob } from "./events.js";
import { $, busy, el, fileBase64, formatSeconds, notify, secondsUntil, showProblem } from "./ui.js";

const FAMILY_NAMES = { preview: "Preview", sd15: "Stable Diffusion 1.5", sdxl: "Stable Diffusion XL", flux: "Flux" };
const STATUS_NAMES = { available: "ready", cold: "cold (loads first)", offline: "offline (no worker now)" };
const TERMINAL = new Set(["succeeded", "failed", "canceled"]);

let models = [];
let styles = [];
const jobs = new Map(); // id -> { node, stop, status }
let pending = null; // { key, body }: a submission whose answer never arrived, sent again with its key

/** Balance changed (held, captured, released): the header reloads /me. */
function balanceChanged() {
  document.dispatchEvent(new CustomEvent("pingvas:balance"));
}

export function setupGenerate() {
  $("model").addEventListener("change", () => applyModel(true));
  $("style").addEventListener("change", applyStyle);
  for (const id of ["init-image", "strength"]) $(id).addEventListener("input", updatePrice);
  for (const id of ["width", "height", "steps", "batch", "controlnet-model"]) $(id).addEventListener("input", updatePrice);
  $("loras").addEventListener("change", updatePrice);
  $("generate-form").addEventListener("submit", (event) => {
    event.preventDefault();
    busy($("generate-submit"), submit);
  });
}

let refreshing = null;

/** Loads models and styles; called when the view opens (availability changes, so each time). */
export function refreshGenerate() {
  if (!refreshing) refreshing = loadModelsAndStyles().finally(() => { refreshing = null; });
  return refreshing;
}

async function loadModelsAndStyles() {
  try {
    const list = await api("GET", "/api/v1/models");
    const selected = $("model").value;
    // Upscalers take an image, not a prompt: they are offered on an image's own page instead.
    models = (list.items || []).filter((model) => !isUpscaler(model));
    fillModels(selected);
    applyModel(selected === "" || selected !== $("model").value);
  } catch (error) {
    showProblem(error);
  }
  await loadStyles();
}

/** The jobs of the last few minutes that are still under way are followed again after a reload. */
export async function resumeJobs() {
  try {
    const page = await api("GET", "/api/v1/generations?limit=10");
    for (const job of (page.items || []).slice().reverse()) {
      if (!jobs.has(job.id) && (!TERMINAL.has(job.status) || Date.now() - Date.parse(job.created_at) < 10 * 60_000)) {
        track(job);
      }
    }
  } catch (error) {
    showProblem(error);
  }
}

export function forgetJobs() {
  for (const job of jobs.values()) if (job.stop) job.stop();
  jobs.clear();
  $("job-list").replaceChildren();
  $("jobs-empty").hidden = false;
}

async function loadStyles() {
  try {
    const list = await api("GET", "/api/v1/styles");
    styles = Array.isArray(list) ? list : list.items || list.styles || [];
  } catch (error) {
    // No styles route on this deployment (yet) means no styles; anything else is worth showing.
    if (!(error instanceof ApiProblem && error.status === 404)) showProblem(error);
    styles = [];
  }
  fillStyles();
}

/** The styles the chosen model's family may use (a style names its `families`). */
function fillStyles() {
  const model = currentModel();
  const usable = styles.filter((style) => !model || !Array.isArray(style.families) || style.families.includes(model.family));
  const select = $("style");
  const chosen = select.value;
  select.replaceChildren(el("option", { value: "" }, "None"), ...usable.map((style) => {
    const id = style.id || style.name;
    return el("option", { value: id }, style.name || style.display_name || id);
  }));
  select.value = usable.some((style) => (style.id || style.name) === chosen) ? chosen : "";
  $("style-row").hidden = usable.length === 0;
}

/** A chosen style's suggested sampler, steps and cfg scale pre-fill the form (within the model's limits). */
function applyStyle() {
  const style = styles.find((candidate) => (candidate.id || candidate.name) === $("style").value);
  const model = currentModel();
  if (!style || !model || !style.defaults) return;
  const { sampler, steps, cfg_scale: cfg } = style.defaults;
  if (sampler && model.limits.samplers.includes(sampler)) $("sampler").value = sampler;
  if (Number.isFinite(steps) && steps <= model.limits.max_steps) $("steps").value = steps;
  if (Number.isFinite(cfg) && cfg >= model.limits.min_cfg_scale && cfg <= model.limits.max_cfg_scale) $("cfg").value = cfg;
  updatePrice();
}

/** A catalog model that only upscales an existing image (capability `upscale`). */
export function isUpscaler(model) {
  return Array.isArray(model.capabilities) && model.capabilities.includes("upscale") && !model.capabilities.includes("txt2img");
}

function fillModels(selected) {
  const select = $("model");
  const families = new Map();
  for (const model of models) {
    if (!families.has(model.family)) families.set(model.family, []);
    families.get(model.family).push(model);
  }
  select.replaceChildren(...[...families].map(([family, members]) => el("optgroup", { label: FAMILY_NAMES[family] || family },
    ...members.map((model) => el("option", { value: model.id }, `${model.name} (${availabilityLabel(model)})`)))));
  const first = models.find((model) => model.availability && model.availability.status !== "offline") || models[0];
  if (models.some((model) => model.id === selected)) select.value = selected;
  else if (first) select.value = first.id;
}

function credits(count) {
  if (count === null || count === undefined) return "price unknown";
  return `${count} credit${count === 1 ? "" : "s"}`;
}

function availabilityLabel(model) {
  const availability = model.availability || {};
  return STATUS_NAMES[availability.status] || availability.status || "unknown";
}

function currentModel() {
  return models.find((model) => model.id === $("model").value) || null;
}

/** Capabilities a model lists (the catalog may add `capabilities`; img2img inputs depend on it). */
function supports(model, capability) {
  const capabilities = model && model.capabilities;
  if (Array.isArray(capabilities)) return capabilities.includes(capability) || (capability === "img2img" && capabilities.includes("init_image"));
  if (capabilities && typeof capabilities === "object") return Boolean(capabilities[capability]);
  return false;
}

function applyModel(resetValues) {
  const model = currentModel();
  if (!model) return;
  const limits = model.limits;
  const defaults = limits.defaults;
  const setNumber = (id, min, max, step, value) => {
    const input = $(id);
    input.min = min;
    input.max = max;
    input.step = step;
    if (resetValues || input.value === "") input.value = value;
  };
  setNumber("width", limits.min_width, limits.max_width, limits.multiple_of, defaults.width);
  setNumber("height", limits.min_height, limits.max_height, limits.multiple_of, defaults.height);
  setNumber("steps", 1, limits.max_steps, 1, defaults.steps);
  setNumber("cfg", limits.min_cfg_scale, limits.max_cfg_scale, 0.5, defaults.cfg_scale);
  setNumber("batch", 1, limits.max_batch, 1, 1);
  const sampler = $("sampler");
  const chosen = sampler.value;
  sampler.replaceChildren(...limits.samplers.map((name) => el("option", { value: name }, name)));
  sampler.value = !resetValues && limits.samplers.includes(chosen) ? chosen : defaults.sampler;

  $("lora-set").hidden = model.loras.length === 0;
  $("loras").replaceChildren(...model.loras.map((lora, index) => el("div", { class: "lora" },
    el("input", { type: "checkbox", id: `lora-${index}`, "data-lora": lora.name }),
    el("label", { for: `lora-${index}` }, lora.display_name),
    el("input", { type: "number", id: `lora-weight-${index}`, "aria-label": `${lora.display_name} weight`, min: -2, max: 2, step: 0.05, value: 0.8 }))));
  $("controlnet-set").hidden = model.controlnets.length === 0;
  $("controlnet-model").replaceChildren(el("option", { value: "" }, "None"),
    ...model.controlnets.map((controlnet) => el("option", { value: controlnet.name }, controlnet.display_name)));
  $("img2img-set").hidden = !supports(model, "img2img");
  fillStyles();

  const availability = model.availability || {};
  const queue = availability.queue;
  const parts = [
    `${FAMILY_NAMES[model.family] || model.family} · ${availabilityLabel(model)}`,
    `${availability.warm_workers ?? 0} of ${availability.workers ?? 0} workers warm`,
  ];
  if (queue) parts.push(`${queue.waiting} waiting, ${queue.running} running, wait now ${formatSeconds(queue.wait_seconds)}`);
  $("model-info").textContent = parts.join(" · ");
  updatePrice();
}

/** The request's price from the model's published cost (the formula generation charges). */
function price(model, request) {
  const cost = model.cost;
  const batch = request.batch_size;
  const loras = (request.loras || []).length;
  const fixed = batch * (cost.base + loras * cost.per_lora + (request.controlnet ? cost.controlnet : 0));
  // From an init image the engine samples steps × strength (at least 1), and the price counts those.
  const steps = request.strength === undefined ? request.steps : Math.max(1, Math.ceil(request.steps * Math.min(Math.max(request.strength, 0), 1)));
  const work = request.width * request.height * steps * batch * cost.per_megapixel_step_milli;
  return Math.max(1, fixed + Math.ceil(work / 1e9));
}

function updatePrice() {
  const model = currentModel();
  if (!model) return;
  const request = {
    width: Number($("width").value) || 0, height: Number($("height").value) || 0, steps: Number($("steps").value) || 0,
    batch_size: Number($("batch").value) || 1, loras: selectedLoras(), controlnet: $("controlnet-model").value ? {} : null,
  };
  if (!$("img2img-set").hidden && $("init-image").files.length > 0) request.strength = Number($("strength").value);
  const cost = price(model, request);
  $("price").textContent = credits(cost);
}

function selectedLoras() {
  return [...$("loras").querySelectorAll("input[type=checkbox]:checked")].map((box) => {
    const weight = box.parentElement.querySelector("input[type=number]");
    return { name: box.dataset.lora, weight: Number(weight.value) };
  });
}

function numberOrNull(value) {
  return value === "" ? null : Number(value);
}

async function requestBody() {
  const model = currentModel();
  if (!model) throw new ApiProblem(0, { title: "No model", detail: "The model list is empty; try again in a moment." });
  const body = {
    model: model.id,
    prompt: $("prompt").value,
    negative_prompt: $("negative").value.trim() === "" ? null : $("negative").value,
    width: numberOrNull($("width").value),
    height: numberOrNull($("height").value),
    steps: numberOrNull($("steps").value),
    cfg_scale: numberOrNull($("cfg").value),
    sampler: $("sampler").value || null,
    seed: numberOrNull($("seed").value),
    batch_size: numberOrNull($("batch").value) ?? 1,
    loras: selectedLoras(),
  };
  if ($("controlnet-model").value) {
    const file = $("controlnet-image").files[0];
    body.controlnet = { model: $("controlnet-model").value, image: file ? await fileBase64(file) : "", strength: Number($("controlnet-strength").value) };
  }
  if (!$("img2img-set").hidden && $("init-image").files[0]) {
    body.init_image = await fileBase64($("init-image").files[0]);
    body.strength = Number($("strength").value);
  }
  if ($("style").value) body.style = $("style").value;
  return body;
}

async function submit() {
  const body = await requestBody();
  const text = JSON.stringify(body);
  // The same submission sent again after a lost answer keeps its key, so it is one job.
  if (!pending || pending.text !== text) pending = { key: idempotencyKey(), text };
  let accepted;
  try {
    accepted = await api("POST", "/api/v1/generations", { body, headers: { "Idempotency-Key": pending.key } });
  } catch (error) {
    if (error instanceof ApiProblem && error.status >= 400 && error.status < 500) pending = null;
    throw error;
  }
  pending = null;
  balanceChanged();
  notify(`Job accepted: ${credits(accepted.cost)} held.`);
  track({ ...accepted, model: body.model, prompt: body.prompt });
}

/** Adds a job to the list (newest first) and follows it until it ends. */
export function track(job) {
  if (jobs.has(job.id)) return;
  $("jobs-empty").hidden = true;
  const status = el("span", { class: "job-status", "aria-live": "polite" });
  const detail = el("span", { class: "job-detail", "aria-live": "polite" });
  const bar = el("progress", { max: 1, value: 0, "aria-label": "Progress" });
  const percent = el("span", { class: "job-percent" }, "0%");
  const images = el("div", { class: "job-images" });
  const cancel = el("button", { type: "button", class: "secondary job-cancel" }, "Cancel");
  const node = el("li", { class: "job", "data-job": job.id },
    el("div", { class: "job-head" }, status, el("span", {}, `${job.model || ""} · ${credits(job.cost)}`)),
    el("p", { class: "job-prompt" }, job.prompt || ""),
    el("div", { class: "job-head" }, detail, percent), bar, images, cancel);
  $("job-list").prepend(node);
  const entry = { node, status: job.status, stop: null };
  jobs.set(job.id, entry);

  const setProgress = (step, total) => {
    if (!total) return;
    bar.max = total;
    bar.value = step;
    percent.textContent = `${Math.round((100 * step) / total)}%`;
    bar.setAttribute("aria-valuetext", `step ${step} of ${total}`);
  };
  const render = (data) => {
    entry.status = data.status || entry.status;
    status.textContent = entry.status;
    status.className = `job-status ${entry.status}`;
    node.dataset.status = entry.status;
    cancel.hidden = TERMINAL.has(entry.status);
    if (entry.status === "queued") {
      const position = data.queue_position;
      const start = secondsUntil(data.estimated_start_at);
      detail.textContent = `${position === null || position === undefined ? "In the queue" : `Position ${position + 1} in the queue`}` +
        (start === null ? "" : ` · starts in ${formatSeconds(start)}`);
    } else if (entry.status === "running") {
      const finish = secondsUntil(data.estimated_finish_at);
      detail.textContent = finish === null ? "Running" : `Running · done in about ${formatSeconds(finish)}`;
    } else if (entry.status === "succeeded") {
      detail.textContent = "Done";
      setProgress(1, 1);
      showImages(data.images || []);
    } else if (entry.status === "failed") {
      detail.textContent = data.error ? `Failed: ${data.error.message} (${data.error.code})` : "Failed";
    } else if (entry.status === "canceled") {
      detail.textContent = "Canceled: the credits are back";
    }
    if (data.progress && data.progress.total && data.progress.step !== null && entry.status === "running") {
      setProgress(data.progress.step, data.progress.total);
    }
  };
  const showImages = (list) => {
    images.replaceChildren();
    for (const image of list) {
      const img = el("img", { alt: `Result: ${job.prompt || "generated image"}`, "data-image": image.id });
      const link = el("a", { href: `#/image/${image.id}` }, img);
      images.append(link);
      imageURL(image.url).then((url) => { img.src = url; }).catch(showProblem);
    }
  };
  render(job);

  cancel.addEventListener("click", () => busy(cancel, async () => {
    const answer = await api("POST", `/api/v1/generations/${job.id}/cancel`);
    render(answer);
    balanceChanged();
    notify(answer.status === "canceled" ? "Canceled; the credits are back." : "Stopping at the next step.");
  }));

  if (TERMINAL.has(job.status)) {
    if (job.status === "succeeded" && (!job.images || job.images.length === 0)) {
      api("GET", `/api/v1/generations/${job.id}`).then(render).catch(showProblem);
    }
    return;
  }
  entry.stop = followJob(job.id, {
    onEvent: (name, data) => {
      if (name === "progress" && data) {
        if (entry.status !== "running") render({ status: "running" });
        setProgress(data.step, data.total);
      } else if (data && typeof data === "object") {
        render({ ...data, status: data.status || name });
        if (TERMINAL.has(name)) balanceChanged();
      }
    },
    onState: (state) => { node.dataset.stream = state; },
    onProblem: showProblem,
  });
}
