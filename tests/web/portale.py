"""The Portale Pagamenti driven in headless Chromium (tests/web.sh starts everything).

Usage: portale.py BASE_URL ADMIN_TOKEN JWT_SECRET SCREENSHOT_DIR WORK_DIR
"""
import base64, hashlib, hmac, json, os, re, subprocess, sys, time, urllib.error, urllib.request

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, WebDriverException
from selenium.webdriver.support.ui import Select, WebDriverWait

BASE, TOKEN, SECRET, SHOTS, WORK = sys.argv[1:6]
HERE = os.path.dirname(os.path.abspath(__file__))
AXE = open(os.path.join(HERE, "axe.min.js")).read()
A, CF = "80007580279", "RSSMRA85T10A562S"
IBAN, POSTE = "IT60X0542811101000000123456", "IT30N0760101600000012345678"
checked = []


def piva(first10):
    """A partita IVA with its check digit."""
    s = 0
    for i, c in enumerate(first10):
        d = int(c)
        if i % 2 == 1:
            d *= 2
            d = d - 9 if d > 9 else d
        s += d
    return first10 + str((10 - s % 10) % 10)


B = piva("0012345678")


def api(method, path, body=None):
    req = urllib.request.Request(BASE + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read() or b"null")


def seed():
    contatti = {"email": "tributi@comune.example.it", "telefono": "041 000000", "sito_web": "https://comune.example.it"}
    api("POST", "/api/v1/enti", {"id_dominio": A, "denominazione": "Comune di Esempio", "codice_ipa": "c_x000",
                                 "segregation_code": 1, "contatti": contatti, "ibans": [IBAN, POSTE]})
    api("POST", "/api/v1/enti", {"id_dominio": B, "denominazione": "Unione dei Comuni del Fiume", "codice_ipa": "u_fiume",
                                 "segregation_code": 2, "contatti": {"email": "urp@unione.example.it"}, "ibans": [IBAN]})
    tipo = lambda codice, descr, iban, **kw: dict({"codice": codice, "descrizione": descr, "iban": iban,
                                                  "dati_specifici_riscossione": "9/0101105IM/", "politica_scadenza": "RIFIUTA"}, **kw)
    api("POST", f"/api/v1/enti/{A}/tipi-dovuto", tipo("TARI", "Tassa rifiuti", POSTE))
    api("POST", f"/api/v1/enti/{A}/tipi-dovuto", tipo("MENSA", "Mensa scolastica", IBAN, politica_scadenza="ACCETTA",
                                                        mora_fissa="5.00", interesse_annuo_bp=1000))
    api("POST", f"/api/v1/enti/{A}/tipi-dovuto", tipo("DIRITTI", "Diritti di segreteria", IBAN, spontaneo=True))
    api("POST", f"/api/v1/enti/{B}/tipi-dovuto", tipo("CERT", "Certificato anagrafico", IBAN, spontaneo=True, importo_fisso="16.00"))
    pagatore = {"tipo": "F", "codice_fiscale": CF, "anagrafica": "Mario Rossi", "email": "mario@example.org"}
    d = api("POST", f"/api/v1/enti/{A}/dovuti", {"iud": "WEB-1", "tipo_dovuto": "TARI", "pagatore": pagatore,
                                                 "importo": "64.20", "causale": "TARI 2026", "data_scadenza": "2099-12-31"})
    late = api("POST", f"/api/v1/enti/{A}/dovuti", {"iud": "WEB-LATE", "tipo_dovuto": "MENSA", "pagatore": pagatore,
                                                    "importo": "100.00", "causale": "Mensa ottobre", "data_scadenza": "2026-10-31"})
    return d["numero_avviso"], late["numero_avviso"]


def shot(driver, name):
    driver.save_screenshot(os.path.join(SHOTS, name + ".png"))


def accessible(driver, name):
    """axe-core on the page as rendered: WCAG 2.1 A/AA rules, no serious or critical violation."""
    driver.execute_script(AXE)
    violations = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
        ".then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))));")
    bad = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert not bad, f"{name}: accessibility violations {json.dumps(bad, indent=1)}"
    checked.append(name)
    shot(driver, name)


def wait_text(driver, text, timeout=20):
    # As rendered: a callout's title is upper-case on screen.
    # The outcome page reloads itself: read the text in one script, no element to go stale.
    WebDriverWait(driver, timeout, ignored_exceptions=(StaleElementReferenceException, NoSuchElementException, WebDriverException)).until(
        lambda d: text.lower() in (d.execute_script("return document.body ? document.body.innerText : ''") or "").lower())


def pay_on_checkout(driver):
    """The simulated pagoPA Checkout: its page, then Paga; back to the portal's outcome page."""
    WebDriverWait(driver, 10).until(lambda d: "/checkout/pay" in d.current_url)
    driver.find_element(By.CSS_SELECTOR, "button[value=paga]").click()
    WebDriverWait(driver, 20).until(lambda d: "/portale/esito" in d.current_url)


def jwt(cf):
    enc = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
    head = enc(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = enc(json.dumps({"iss": "https://portale.example.it", "aud": "pagopa-gateway",
                           "exp": int(time.time()) + 600, "fiscal_number": "TINIT-" + cf}).encode())
    sig = hmac.new(SECRET.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{enc(sig)}"


def check_notice_pdf(numero):
    url = f"{BASE}/portale/avviso.pdf?id_dominio={A}&numero_avviso={numero}&codice_fiscale={CF}"
    path = os.path.join(WORK, "avviso.pdf")
    with urllib.request.urlopen(url) as r:
        assert r.headers["Content-Type"] == "application/pdf", r.headers
        open(path, "wb").write(r.read())
    text = subprocess.run(["pdftotext", "-layout", path, "-"], check=True, capture_output=True, text=True).stdout
    for want in ["AVVISO DI PAGAMENTO", "Comune di Esempio", "Mario Rossi", "TARI 2026", "64,20", "31/12/2099",
                 "BOLLETTINO POSTALE PA", "000012345678"]:
        assert want in text, f"notice PDF lacks {want!r}:\n{text}"
    subprocess.run(["pdftoppm", "-r", "200", "-png", "-f", "1", "-l", "1", path, os.path.join(WORK, "avviso")], check=True)
    png = [f for f in os.listdir(WORK) if f.startswith("avviso") and f.endswith(".png")][0]
    codes = subprocess.run(["zbarimg", "--quiet", "--raw", os.path.join(WORK, png)], capture_output=True, text=True).stdout.split()
    want = f"PAGOPA|002|{numero}|{A}|6420"
    assert want in codes, f"QR codes read {codes}, not {want}"
    subprocess.run(["cp", os.path.join(WORK, png), os.path.join(SHOTS, "avviso-pdf.png")], check=True)
    print(f"ok   the notice PDF reads back; its QR code decodes to {want}")


def main():
    numero, numero_late = seed()
    opts = webdriver.ChromeOptions()
    for a in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1400", "--lang=it-IT"]:
        opts.add_argument(a)
    opts.binary_location = "/usr/bin/chromium"
    service = webdriver.ChromeService(executable_path="/usr/bin/chromedriver")
    driver = webdriver.Chrome(options=opts, service=service)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    try:
        # Home: find the notice by its code and the payer's fiscal code; pay it.
        driver.get(BASE + "/")
        assert driver.title.startswith("Paga un avviso"), driver.title
        accessible(driver, "01-home")
        # A wrong fiscal code: the same page with the error, tied to its fields.
        Select(driver.find_element(By.ID, "id_dominio")).select_by_value(A)
        driver.find_element(By.ID, "numero_avviso").send_keys(numero)
        driver.find_element(By.ID, "codice_fiscale").send_keys("VRDLGU80A01H501U")
        driver.find_element(By.CSS_SELECTOR, "form[action='/portale/avviso'] button[type=submit]").click()
        wait_text(driver, "controlla i dati inseriti")
        assert driver.title.startswith("Errore:"), driver.title
        assert driver.find_element(By.ID, "codice_fiscale").get_attribute("aria-invalid") == "true"
        accessible(driver, "01b-home-errore")
        driver.get(BASE + "/portale")
        Select(driver.find_element(By.ID, "id_dominio")).select_by_value(A)
        driver.find_element(By.ID, "numero_avviso").send_keys(numero)
        driver.find_element(By.ID, "codice_fiscale").send_keys(CF.lower())
        driver.find_element(By.CSS_SELECTOR, "form[action='/portale/avviso'] button[type=submit]").click()
        wait_text(driver, "TARI 2026")
        assert driver.find_element(By.ID, "importo").text == "64,20 €"
        accessible(driver, "02-avviso")
        # A PEC address is refused with a clear message.
        driver.find_element(By.ID, "email").send_keys("mario@pec.example.it")
        driver.find_element(By.ID, "paga").click()
        wait_text(driver, "non una PEC")
        driver.back()
        wait_text(driver, "TARI 2026")
        email = driver.find_element(By.ID, "email")
        email.clear()
        email.send_keys("mario@example.org")
        driver.find_element(By.ID, "paga").click()
        pay_on_checkout(driver)
        wait_text(driver, "Pagamento eseguito")
        assert driver.find_element(By.ID, "esito").get_attribute("data-esito") == "PAGATO"
        accessible(driver, "03-esito")
        driver.find_element(By.CSS_SELECTOR, "#ricevute a").click()
        wait_text(driver, "Ricevuta di pagamento")
        assert "64,20" in driver.find_element(By.ID, "ricevuta").text
        accessible(driver, "04-ricevuta")
        pdf = driver.find_element(By.LINK_TEXT, "Scarica la ricevuta (PDF)").get_attribute("href")
        with urllib.request.urlopen(pdf) as r:
            body = r.read()
        open(os.path.join(WORK, "ricevuta.pdf"), "wb").write(body)
        text = subprocess.run(["pdftotext", os.path.join(WORK, "ricevuta.pdf"), "-"], capture_output=True, text=True).stdout
        assert "RICEVUTA DI PAGAMENTO" in text and "64,20" in text, text
        print("ok   a notice found by code and fiscal code is paid; outcome, receipt and its PDF")

        # A late notice: the amount of today, explained.
        driver.get(f"{BASE}/portale/avviso?id_dominio={A}&numero_avviso={numero_late}&codice_fiscale={CF}")
        wait_text(driver, "Mensa ottobre")
        spiegazione = driver.find_element(By.ID, "importo-aggiornato").text
        assert "scaduto il 31/10/2026" in spiegazione and "5,00 €" in spiegazione, spiegazione
        oggi = driver.find_element(By.ID, "importo").text
        assert oggi != "100,00 €" and float(oggi.split()[0].replace(".", "").replace(",", ".")) > 105, oggi
        accessible(driver, "05-avviso-scaduto")
        print(f"ok   a late notice shows {oggi} with its late fee and interest")

        # Spontaneous payments to two enti in one cart.
        driver.get(BASE + "/portale/enti")
        accessible(driver, "06-enti")
        driver.find_element(By.LINK_TEXT, "Unione dei Comuni del Fiume").click()
        wait_text(driver, "Certificato anagrafico")
        accessible(driver, "07-ente")
        driver.find_element(By.ID, "cf-CERT").send_keys(CF)
        driver.find_element(By.ID, "an-CERT").send_keys("Mario Rossi")
        driver.find_element(By.CSS_SELECTOR, "form[action$='/spontaneo'] button[type=submit]").click()
        wait_text(driver, "Totale")
        driver.get(f"{BASE}/portale/enti/{A}")
        wait_text(driver, "Diritti di segreteria")
        assert "tributi@comune.example.it" in driver.find_element(By.ID, "assistenza").find_element(By.XPATH, "..").text
        driver.find_element(By.ID, "cf-DIRITTI").send_keys(CF)
        driver.find_element(By.ID, "an-DIRITTI").send_keys("Mario Rossi")
        driver.find_element(By.ID, "im-DIRITTI").send_keys("2,50")
        driver.find_element(By.CSS_SELECTOR, "form[action$='/spontaneo'] button[type=submit]").click()
        wait_text(driver, "Totale")
        rows = driver.find_elements(By.CSS_SELECTOR, "#voci tbody tr")
        assert len(rows) == 2, [r.text for r in rows]
        assert driver.find_element(By.ID, "totale").text == "18,50 €"
        accessible(driver, "08-carrello")
        driver.find_element(By.ID, "email").send_keys("mario@example.org")
        driver.find_element(By.ID, "paga").click()
        pay_on_checkout(driver)
        wait_text(driver, "Pagamento eseguito")
        links = driver.find_elements(By.CSS_SELECTOR, "#ricevute a")
        assert len(links) == 2, [l.text for l in links]
        # Another browser with the same outcome address sees the outcome, not the receipts.
        esito_url = driver.current_url
        driver.delete_cookie("pagamento")
        driver.get(esito_url)
        wait_text(driver, "sono state inviate per e-mail")
        assert not driver.find_elements(By.CSS_SELECTOR, "#ricevute a")
        driver.get(BASE + "/portale/carrello")
        wait_text(driver, "Il carrello è vuoto")
        print("ok   a cart of spontaneous payments to two enti is paid in one go")

        # The personal area, with the portal's identity.
        driver.get(BASE + "/portale/area")
        wait_text(driver, "Accesso richiesto")
        driver.add_cookie({"name": "portale_token", "value": jwt(CF), "path": "/"})
        driver.get(BASE + "/portale/area")
        wait_text(driver, CF)
        pagati = driver.find_element(By.ID, "pagati").text
        assert "TARI 2026" in pagati and "Certificato anagrafico" in pagati, pagati
        assert "Mensa ottobre" in driver.find_element(By.ID, "da-pagare").text
        accessible(driver, "09-area-personale")
        print("ok   the personal area lists the citizen's notices to pay and payments")

        for path, name in [("/portale/info", "10-info"), ("/portale/privacy", "11-privacy"), ("/portale/cookie", "12-cookie")]:
            driver.get(BASE + path)
            accessible(driver, name)
        # Keyboard: the first Tab reaches the skip link to the content.
        driver.get(BASE + "/portale")
        driver.find_element(By.TAG_NAME, "body").send_keys("\ue004")
        active = driver.switch_to.active_element
        assert active.get_attribute("href").endswith("#contenuto"), active.get_attribute("outerHTML")
        # Cancelled on Checkout: the outcome page says so.
        driver.get(f"{BASE}/portale/avviso?id_dominio={A}&numero_avviso={numero_late}&codice_fiscale={CF}")
        wait_text(driver, "Mensa ottobre")
        driver.find_element(By.ID, "email").send_keys("mario@example.org")
        driver.find_element(By.ID, "paga").click()
        WebDriverWait(driver, 10).until(lambda d: "/checkout/pay" in d.current_url)
        driver.find_element(By.CSS_SELECTOR, "button[value=annulla]").click()
        WebDriverWait(driver, 20).until(lambda d: "/portale/esito" in d.current_url and "ANNULLATO" in d.current_url)
        wait_text(driver, "Pagamento annullato")
        accessible(driver, "13-esito-annullato")
        print("ok   a payment cancelled on Checkout comes back as cancelled")
        # Pages that do not exist, or notices not found, are pages too.
        driver.get(BASE + "/portale/enti/00000000000")
        wait_text(driver, "Pagina non trovata")
        accessible(driver, "14-non-trovata")
        print(f"ok   axe-core finds no serious violation on {len(checked)} pages: {', '.join(checked)}")
    finally:
        driver.quit()
    # Forms posted from another site are refused; a cart item needs its payer's fiscal code.
    def post(path, fields, origin=None):
        data = "&".join(f"{k}={v}" for k, v in fields.items()).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if origin:
            headers["Origin"] = origin
        req = urllib.request.Request(BASE + path, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code
    iuv_late = numero_late[1:]
    voce = {"id_dominio": A, "iuv": iuv_late, "codice_fiscale": CF}
    assert post("/portale/carrello/aggiungi", voce, origin="http://evil.example") == 403
    assert post("/portale/carrello/aggiungi", dict(voce, codice_fiscale="VRDLGU80A01H501U")) == 404
    print("ok   cross-site forms are refused and the cart is no way to probe notices")
    check_notice_pdf(numero)


if __name__ == "__main__":
    main()
