// My images (paged thumbnails, search), the public Explore feed, and one image's page: recipe,
// title, tags and visibility for the owner, delete, remix, and reporting someone else's image.
import { api, currentSession, dropImageURL, idempotencyKey, imageURL } from "./api.js";
import { isUpscaler, track } from "./generate.js";
import { $, busy, el, notify, showProblem } from "./ui.js";

const PAGE = 12;
const feeds = {
  gallery: { path: "/api/v1/images", cursor: null, query: "", link: "image" },
  explore: { path: "/api/v1/explore", cursor: null, query: "", link: "explore" },
};
let shown = null; // the image on the image page, and whether it is the caller's

export function setupGallery() {
  $("gallery-more").addEventListener("click", () => busy($("gallery-more"), () => loadPage("gallery", false)));
  $("explore-more").addEventListener("click", () => busy($("explore-more"), () => loadPage("explore", false)));
  $("gallery-search").addEventListener("submit", (event) => {
    event.preventDefault();
    feeds.gallery.query = $("gallery-q").value.trim();
    busy($("gallery-search").querySelector("button"), () => loadPage("gallery", true));
  });
  $("image-form").addEventListener("submit", (event) => {
    event.preventDefault();
    busy($("image-save"), saveImage);
  });
  $("image-delete").addEventListener("click", () => busy($("image-delete"), deleteImage));
  $("image-remix").addEventListener("click", () => busy($("image-remix"), remixImage));
  $("report-form").addEventListener("submit", (event) => {
    event.preventDefault();
    busy($("report-submit"), reportImage);
  });
}

export function refreshGallery() {
  return loadPage("gallery", true).catch(showProblem);
}

export function refreshExplore() {
  $("explore-signin").hidden = Boolean(currentSession());
  return loadPage("explore", true).catch(showProblem);
}

async function loadPage(name, fresh) {
  const feed = feeds[name];
  if (fresh) feed.cursor = null;
  const params = new URLSearchParams({ limit: String(PAGE) });
  if (feed.cursor) params.set("cursor", feed.cursor);
  if (feed.query) params.set("q", feed.query);
  const page = await api("GET", `${feed.path}?${params}`);
  const grid = $(`${name}-grid`);
  const tiles = (page.items || []).map((image) => tile(image, feed.link));
  if (fresh) grid.replaceChildren(...tiles);
  else grid.append(...tiles);
  feed.cursor = page.next_cursor || null;
  $(`${name}-more`).hidden = !feed.cursor;
  $(`${name}-empty`).hidden = grid.children.length > 0;
}

function tile(image, link) {
  const label = image.title || image.prompt;
  const img = el("img", { alt: label, loading: "lazy", width: 256, height: 256 });
  imageURL(image.thumbnail_url || image.url).then((url) => { img.src = url; }).catch(() => { img.alt = `${label} (could not load)`; });
  return el("li", { class: "tile", "data-image": image.id },
    el("a", { href: `#/${link}/${image.id}` }, img,
      el("p", {}, label),
      el("p", {}, el("span", { class: "badge" }, image.visibility), image.hidden ? el("span", { class: "badge" }, "hidden") : null)));
}

/** The image page; `own` when opened from the caller's gallery or jobs. */
export async function openImage(id, own) {
  $("image-back").href = own ? "#/gallery" : "#/explore";
  $("image-back").textContent = own ? "Back to my images" : "Back to Explore";
  $("image-form").hidden = !own;
  $("image-delete").hidden = !own;
  // Reporting and remixing need an account; a signed-out visitor only looks.
  $("report-form").hidden = own || !currentSession();
  $("image-remix").hidden = !currentSession();
  $("image-upscalers").replaceChildren();
  $("recipe").replaceChildren();
  $("image-full").removeAttribute("src");
  try {
    const image = await api("GET", `/api/v1/images/${encodeURIComponent(id)}`);
    shown = { image, own };
    $("image-heading").textContent = image.title || "Image";
    $("image-full").alt = image.title || image.prompt;
    $("image-caption").textContent = image.prompt;
    $("image-title").value = image.title || "";
    $("image-tags").value = (image.tags || []).join(", ");
    $("image-visibility").value = image.visibility;
    renderRecipe(image);
    $("image-full").src = await imageURL(image.url);
    if (own) await offerUpscalers(image);
  } catch (error) {
    showProblem(error);
  }
}

/** One button per upscaler in the catalog ("Upscale ×2"), on the owner's page of an image. */
async function offerUpscalers(image) {
  const list = await api("GET", "/api/v1/models");
  const upscalers = (list.items || []).filter(isUpscaler);
  $("image-upscalers").replaceChildren(...upscalers.map((model) => {
    const button = el("button", { type: "button", "data-model": model.id }, `Upscale ×${model.upscale_factor || "?"}`);
    button.title = `${model.name}: ${image.width * (model.upscale_factor || 1)} × ${image.height * (model.upscale_factor || 1)}`;
    button.addEventListener("click", () => busy(button, () => upscaleImage(image, model)));
    return button;
  }));
}

async function upscaleImage(image, model) {
  const accepted = await api("POST", "/api/v1/generations", {
    body: { model: model.id, init_image_id: image.id }, headers: { "Idempotency-Key": idempotencyKey() },
  });
  document.dispatchEvent(new CustomEvent("pingvas:balance"));
  track({ ...accepted, model: model.id, prompt: `${image.prompt || image.title || "image"} (upscaled ×${model.upscale_factor})` });
  notify(`Upscale accepted: ${accepted.cost} credits held.`);
  location.hash = "#/generate";
}

function renderRecipe(image) {
  const recipe = image.recipe || {};
  const rows = [
    ["Model", recipe.model || image.model], ["Engine", recipe.engine || image.engine],
    ["Prompt", recipe.prompt || image.prompt], ["Negative prompt", recipe.negative_prompt || image.negative_prompt],
    ["Size", `${recipe.width || image.width} × ${recipe.height || image.height}`], ["Steps", recipe.steps],
    ["CFG scale", recipe.cfg_scale], ["Sampler", recipe.sampler], ["Scheduler", recipe.scheduler],
    ["Seed", recipe.seed ?? image.seed],
    ["Batch", recipe.batch_size ? `image ${(recipe.batch_index ?? 0) + 1} of ${recipe.batch_size}` : null],
    ["LoRAs", (recipe.loras || []).map((lora) => `${lora.name} (${lora.weight})`).join(", ")],
    ["ControlNet", recipe.controlnet ? `${recipe.controlnet.model} (${recipe.controlnet.strength})` : null],
    ["Visibility", image.visibility], ["Tags", (image.tags || []).join(", ")],
    ["Created", new Date(image.created_at).toLocaleString()],
    ["Hidden", image.hidden ? `yes: ${image.hidden_reason || "by a moderator"}` : null],
  ];
  $("recipe").replaceChildren(...rows
    .filter(([, value]) => value !== null && value !== undefined && value !== "")
    .flatMap(([name, value]) => [el("dt", {}, name), el("dd", {}, String(value))]));
}

async function saveImage() {
  const { image } = shown;
  const title = $("image-title").value.trim();
  const tags = $("image-tags").value.split(",").map((tag) => tag.trim()).filter(Boolean);
  const updated = await api("PATCH", `/api/v1/images/${image.id}`, {
    body: { title: title === "" ? null : title, tags, visibility: $("image-visibility").value },
  });
  shown.image = updated;
  renderRecipe(updated);
  $("image-heading").textContent = updated.title || "Image";
  notify(`Saved: the image is ${updated.visibility}.`);
}

async function deleteImage() {
  const { image } = shown;
  if (!window.confirm("Delete this image for good?")) return;
  await api("DELETE", `/api/v1/images/${image.id}`);
  dropImageURL(image.url);
  notify("Image deleted.");
  location.hash = "#/gallery";
}

async function remixImage() {
  const { image } = shown;
  const accepted = await api("POST", `/api/v1/images/${image.id}/remix`, { body: {}, headers: { "Idempotency-Key": idempotencyKey() } });
  document.dispatchEvent(new CustomEvent("pingvas:balance"));
  track({ ...accepted, model: image.model, prompt: image.prompt });
  notify(`Remix accepted: ${accepted.cost} credits held.`);
  location.hash = "#/generate";
}

async function reportImage() {
  const { image } = shown;
  await api("POST", `/api/v1/images/${image.id}/reports`, { body: { reason: $("report-reason").value } });
  $("report-reason").value = "";
  notify("Thank you: the report reached the moderators.");
}
