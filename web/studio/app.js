// The studio page: signing in and out, the header's balance, and which view shows (the URL's hash).
import { acceptTokens, api, currentSession, forgetSession, onSessionChange } from "./api.js";
import { refreshBilling, setupBilling } from "./billing.js";
import { forgetJobs, refreshGenerate, resumeJobs, setupGenerate } from "./generate.js";
import { openImage, refreshExplore, refreshGallery, setupGallery } from "./gallery.js";
import { $, busy, clearProblem, notify, showProblem } from "./ui.js";

const VIEWS = ["auth", "generate", "gallery", "explore", "billing", "image"];
let signedIn = false;

function show(view) {
  for (const name of VIEWS) $(`view-${name}`).hidden = name !== view;
  for (const link of document.querySelectorAll("nav a")) {
    if (link.dataset.view === view || (view === "image" && link.dataset.view === "gallery")) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.body.dataset.view = view;
}

/** Shows the view the hash names; signed out, only sign-in (and public images) can be seen. */
async function route() {
  const [, view = "generate", id] = location.hash.split("/");
  if (!currentSession()) {
    // Explore and public images need no account; everything else starts at sign-in.
    if (view === "explore" && id) {
      show("image");
      return openImage(id, false);
    }
    if (view === "explore") {
      show("explore");
      return refreshExplore();
    }
    show("auth");
    return undefined;
  }
  switch (view) {
    case "gallery": show("gallery"); return refreshGallery();
    case "explore":
      if (id) { show("image"); return openImage(id, false); }
      show("explore"); return refreshExplore();
    case "image": show("image"); return openImage(id, true);
    case "billing": show("billing"); return refreshBilling();
    default: show("generate"); return refreshGenerate();
  }
}

async function refreshMe() {
  if (!currentSession()) return;
  try {
    const me = await api("GET", "/api/v1/me");
    $("credits").textContent = String(me.credits);
    $("debt").textContent = String(me.credit_debt);
    $("debt").parentElement.classList.toggle("owing", me.credit_debt > 0);
    $("plan").textContent = me.plan;
    $("who").textContent = me.display_name;
  } catch (error) {
    showProblem(error);
  }
}

function sessionChanged(session) {
  const now = Boolean(session);
  $("nav").hidden = !now;
  $("account").hidden = !now;
  if (now === signedIn) return;
  signedIn = now;
  if (now) {
    refreshMe();
    resumeJobs();
  } else {
    forgetJobs();
    for (const id of ["credits", "debt", "plan"]) $(id).textContent = "…";
  }
  route();
}

async function signIn(path, body) {
  const pair = await api("POST", path, { body, auth: false });
  acceptTokens(pair);
  if (!location.hash || location.hash === "#/") location.hash = "#/generate";
  $("main").focus();
}

/** Shows the social sign-in buttons of the providers this deployment has configured. */
async function probeOAuth() {
  for (const provider of ["google", "discord"]) {
    try {
      const response = await fetch(`/api/v1/auth/oauth/${provider}/start`, { redirect: "manual", cache: "no-store" });
      // Configured: a redirect to the provider (opaque here). Not configured: 404 oauth-provider-unavailable.
      const configured = response.type === "opaqueredirect" || (response.status >= 300 && response.status < 400);
      $(`oauth-${provider}`).hidden = !configured;
      if (configured) $("oauth").hidden = false;
    } catch {
      // No answer: leave the button out.
    }
  }
}

function setup() {
  setupGenerate();
  setupGallery();
  setupBilling();
  $("problem-dismiss").addEventListener("click", clearProblem);
  $("signin-form").addEventListener("submit", (event) => {
    event.preventDefault();
    busy($("signin-submit"), () => signIn("/api/v1/auth/login", { email: $("signin-email").value.trim(), password: $("signin-password").value }));
  });
  $("signup-form").addEventListener("submit", (event) => {
    event.preventDefault();
    busy($("signup-submit"), async () => {
      await signIn("/api/v1/auth/signup", {
        email: $("signup-email").value.trim(), password: $("signup-password").value, display_name: $("signup-name").value.trim(),
      });
      notify("Welcome! Your free credits are in the header.");
    });
  });
  $("signout").addEventListener("click", () => busy($("signout"), async () => {
    const session = currentSession();
    forgetSession();
    location.hash = "";
    if (session) await api("POST", "/api/v1/auth/logout", { body: { refresh_token: session.refresh }, auth: false }).catch(() => {});
    notify("Signed out.");
  }));
  document.addEventListener("pingvas:balance", refreshMe);
  window.addEventListener("hashchange", () => { clearProblem(); route(); });
  window.addEventListener("unhandledrejection", (event) => showProblem(event.reason));
  onSessionChange(sessionChanged);
  // Balances and availability move while the page is open.
  setInterval(() => { if (currentSession() && !document.hidden) refreshMe(); }, 30_000);
  sessionChanged(currentSession());
  if (!signedIn) route();
  probeOAuth();
}

setup();
