// End-to-end tests in a real browser (Debian's Chromium through playwright-core).
// Starts `sanad demo` on a free port in a temporary directory, walks the main journeys as
// the demo accounts, and saves screenshots of the main pages to target/e2e/.
// Usage: node e2e/run.mjs [path/to/sanad]   (default target/debug/sanad)
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const sanad = resolve(process.argv[2] ?? join(root, "target/debug/sanad"));
const shots = join(root, "target/e2e");
mkdirSync(shots, { recursive: true });
const PASSWORD = "sanad-demo-2026";
const port = 18000 + Math.floor(Math.random() * 1000);
const base = `http://127.0.0.1:${port}`;

// The demo's directory (database, payment files, outbox): removed after a passing run, kept
// for a look after a failing one.
const cwd = mkdtempSync(join(tmpdir(), "sanad-e2e-"));

function startDemo() {
  const child = spawn(sanad, ["demo", "--households", "3000", "--port", String(port), "--seed", "11"], { cwd, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`demo did not start:\n${out}`)), 120_000);
    const read = (d) => {
      out += d;
      if (out.includes("Sanad is running at")) {
        clearTimeout(timer);
        ok(child);
      }
    };
    child.stdout.on("data", read);
    child.stderr.on("data", read);
    child.on("exit", (code) => fail(new Error(`demo exited with ${code}:\n${out}`)));
  });
}

async function login(page, username) {
  await page.goto(`${base}/login`);
  await page.fill("#username", username);
  await page.fill("#password", PASSWORD);
  await Promise.all([page.waitForNavigation(), page.click("main button[type=submit]")]);
  assert.ok(!page.url().includes("/login"), `${username} could not log in`);
}

async function logout(page) {
  await Promise.all([page.waitForNavigation(), page.click("header form[action='/logout'] button")]);
}

const results = [];
async function step(name, fn) {
  const t = Date.now();
  try {
    await fn();
    results.push(`ok   ${name} (${Date.now() - t} ms)`);
  } catch (e) {
    results.push(`FAIL ${name}: ${e.message}`);
    throw e;
  }
}

const server = await startDemo();
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
});
let failed = false;
try {
  const context = await browser.newContext({ viewport: { width: 1180, height: 820 } }); // a tablet in landscape
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => {
    // The 404 of the refused household is expected; anything else (CSP, script) is not.
    if (m.type() === "error" && !/\b40[34]\b/.test(m.text())) errors.push(m.text());
  });
  page.on("dialog", (d) => d.accept());
  let householdId;

  await step("log in as an antenna agent and see the dashboard", async () => {
    await login(page, "agent");
    assert.equal(await page.getAttribute("html", "lang"), "fr");
    assert.match(await page.textContent("main"), /Ménages par région/);
    await page.screenshot({ path: join(shots, "dashboard.png"), fullPage: true });
  });

  await step("find a household and read its explanation", async () => {
    const list = await page.request.get(`${base}/api/v1/households?limit=1`);
    householdId = (await list.json()).items[0].rsu_id;
    await page.goto(`${base}/households`);
    await page.fill("#q", householdId);
    await page.click("form.search button[type=submit]");
    await page.waitForSelector(`#results a[href="/households/${householdId}"]`);
    await page.screenshot({ path: join(shots, "search.png"), fullPage: true });
    await Promise.all([page.waitForNavigation(), page.click(`#results a[href="/households/${householdId}"]`)]);
    const explanation = await page.textContent("#eligibility");
    assert.match(explanation, /Ménage (non )?éligible/);
    assert.match(explanation, /asd-20\d\d-\d\d/);
    await page.screenshot({ path: join(shots, "household.png"), fullPage: true });
  });

  await step("switch to Arabic: the page is right-to-left", async () => {
    await Promise.all([page.waitForNavigation(), page.selectOption("#lang", "ar")]);
    assert.equal(await page.getAttribute("html", "dir"), "rtl");
    assert.equal(await page.getAttribute("html", "lang"), "ar");
    assert.match(await page.textContent("#eligibility"), /الأسرة/);
    await page.screenshot({ path: join(shots, "household-ar.png"), fullPage: true });
    await Promise.all([page.waitForNavigation(), page.selectOption("#lang", "fr")]);
    await logout(page);
  });

  await step("be refused another region's household", async () => {
    await login(page, "agent-tanger");
    const res = await page.goto(`${base}/households/${householdId}`);
    assert.equal(res.status(), 404);
    await page.goto(`${base}/households`);
    await page.fill("#q", householdId);
    await page.click("form.search button[type=submit]");
    await page.waitForSelector("#results p");
    assert.equal(await page.locator(`#results a[href="/households/${householdId}"]`).count(), 0);
    await logout(page);
  });

  await step("publish a rule set as one user and approve it as another", async () => {
    const toml = readFileSync(join(root, "rules/asd-2026-11.toml"), "utf8")
      .replace('id = "asd-2026-11"', 'id = "asd-e2e-2031"')
      .replace('effective_from = "2026-11-01"', 'effective_from = "2031-01-01"');
    await login(page, "admin");
    await page.goto(`${base}/rules/propose`);
    await page.fill("#body", toml);
    await Promise.all([page.waitForNavigation(), page.click("main button[type=submit]")]);
    assert.ok(page.url().endsWith("/rules/asd-e2e-2031"), page.url());
    assert.equal(await page.locator("form[action$='/approve']").count(), 0, "the proposer cannot approve");
    await page.screenshot({ path: join(shots, "rule-proposed.png"), fullPage: true });
    await logout(page);
    await login(page, "approver");
    await page.goto(`${base}/rules/asd-e2e-2031`);
    await Promise.all([page.waitForNavigation(), page.click("form[action$='/approve'] button")]);
    assert.match(await page.textContent("main"), /Approuvé/);
    await page.goto(`${base}/rules`);
    await page.screenshot({ path: join(shots, "rules.png"), fullPage: true });
    await logout(page);
  });

  await step("the auditor sees both steps in an intact audit log", async () => {
    await login(page, "auditor");
    await page.goto(`${base}/audit?entity=rule_set`);
    const text = await page.textContent("table.audit");
    assert.match(text, /approve/);
    assert.match(text, /propose/);
    assert.match(await page.textContent("p.verdict"), /Chaîne intègre/);
    await page.screenshot({ path: join(shots, "audit.png"), fullPage: true });
    await logout(page);
  });

  await step("the payment approver reads this month's payroll and its reconciliation", async () => {
    await login(page, "approver");
    await page.goto(`${base}/payroll`);
    await page.screenshot({ path: join(shots, "payroll-list.png"), fullPage: true });
    await Promise.all([page.waitForNavigation(), page.locator("main tr:has(span.badge.released) a").first().click()]);
    assert.match(await page.textContent("h1"), /Paie de/);
    assert.match(await page.textContent("main"), /Rapprochement/);
    assert.ok((await page.locator("svg.chart.stack rect").count()) > 0, "reconciliation chart drawn");
    await page.screenshot({ path: join(shots, "payroll.png"), fullPage: true });
    await logout(page);
  });

  await step("the M&E analyst reads the pilot's evaluation report", async () => {
    await login(page, "analyst");
    await page.goto(`${base}/pilot`);
    assert.ok((await page.locator(".eval-report svg").count()) >= 3, "coefficient, RD and event-study plots");
    await page.screenshot({ path: join(shots, "pilot.png"), fullPage: true });
    const res = await page.goto(`${base}/households`);
    assert.equal(res.status(), 403, "the analyst sees aggregates only");
    await logout(page);
  });

  assert.deepEqual(errors, [], "no script errors or CSP violations in the browser console");
} catch (e) {
  failed = true;
  console.error(e);
} finally {
  await browser.close();
  const exited = new Promise((ok) => server.once("exit", ok));
  server.kill("SIGINT");
  await Promise.race([exited, new Promise((ok) => setTimeout(ok, 10_000))]);
}
if (failed) console.error(`the demo's files are kept in ${cwd}`);
else rmSync(cwd, { recursive: true, force: true });
console.log(results.join("\n"));
console.log(`screenshots: ${shots}`);
process.exit(failed ? 1 : 0);
