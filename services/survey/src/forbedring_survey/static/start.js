// The start page's summaries from the other services (same origin behind the proxy, the
// session cookie signs the request in). Each section keeps its plain link; a summary
// that cannot be had leaves the section as it was. Text only (textContent), never HTML.
const DATE = { day: "2-digit", month: "2-digit", year: "numeric" };

function date(value, lang) {
  return new Date(value).toLocaleDateString(lang === "en" ? "en-GB" : "nb-NO", DATE);
}

function item(list, text, href) {
  const li = document.createElement("li");
  if (href) {
    const a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    li.append(a);
  } else {
    li.textContent = text;
  }
  list.append(li);
  return li;
}

function results(section, list, found) {
  const t = section.dataset;
  for (const period of found) {
    const name = period.name || period.period_id;
    if (period.readable) {
      item(list, `${name}: ${t.textReadable}`, `/publication/periods/${encodeURIComponent(period.period_id)}`);
    } else {
      const due = period.next_release_at ? ` ${t.textDue} ${date(period.next_release_at, t.lang)}` : "";
      item(list, `${name}: ${t.textNotYet}${due}`);
    }
  }
  return found.length > 0;
}

function plans(section, list, found) {
  const t = section.dataset;
  let any = false;
  for (const entry of found) {
    const period = entry.period;
    const deadline = period.plan_deadline ? ` (${t.textDeadline} ${date(period.plan_deadline, t.lang)})` : "";
    for (const plan of entry.plans) {
      any = true;
      const status = t["text" + plan.status.charAt(0).toUpperCase() + plan.status.slice(1)] || plan.status;
      const text = `${plan.unit.name}: ${status}, ${plan.done}/${plan.measures} ${t.textMeasures}${deadline}`;
      item(list, text, `/actionplan/plans/${encodeURIComponent(plan.plan_id)}`);
    }
    if (entry.leader) {  // only a leader decides measures lifted to their unit
      item(list, `${t.textInbox} (${period.name || period.period_id})`,
        `/actionplan/periods/${encodeURIComponent(period.period_id)}/inbox`);
    }
  }
  return any;
}

const RENDER = { results, plans };

for (const section of document.querySelectorAll("[data-summary]")) {
  const render = RENDER[section.dataset.kind];
  const list = section.querySelector("ul.summary");
  if (!render || !list) continue;
  fetch(section.dataset.summary, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then((reply) => (reply.ok ? reply.json() : Promise.reject(reply.status)))
    .then((found) => {
      if (!render(section, list, found)) item(list, section.dataset.textNone);
      section.classList.add("summary-loaded");
    })
    .catch(() => {}); // the plain link stays
}
