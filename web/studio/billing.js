// Billing: the plan in effect and its subscription, and a checkout for a plan or a credit pack.
import { api } from "./api.js";
import { $, busy, el, showProblem } from "./ui.js";

export function setupBilling() {
  $("checkout-form").addEventListener("submit", (event) => {
    event.preventDefault();
    busy($("checkout-submit"), checkout);
  });
}

export async function refreshBilling() {
  try {
    const state = await api("GET", "/api/v1/billing/subscription");
    const subscription = state.subscription;
    const date = (value) => (value ? new Date(value).toLocaleDateString() : null);
    const rows = [["Plan", state.plan]];
    if (subscription) {
      rows.push(["Subscription", subscription.status], ["Renews", date(subscription.renews_at)],
        ["Ends", date(subscription.ends_at)], ["Trial ends", date(subscription.trial_ends_at)]);
    } else {
      rows.push(["Subscription", "none"]);
    }
    $("subscription").replaceChildren(...rows.filter(([, value]) => value)
      .flatMap(([name, value]) => [el("dt", {}, name), el("dd", {}, value)]));
  } catch (error) {
    showProblem(error);
  }
}

async function checkout() {
  const variant = $("variant").value.trim();
  const answer = await api("POST", "/api/v1/billing/checkout", { body: { variant } });
  $("checkout-result").replaceChildren("Your checkout is ready: ",
    el("a", { href: answer.checkout_url, rel: "noopener" }, "continue to payment"), ".");
  window.location.assign(answer.checkout_url);
}
