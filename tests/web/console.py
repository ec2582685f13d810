"""The MyPivot console driven in headless Chromium (tests/web.sh starts everything).

Operators made with the `operatore crea` command sign in with password and TOTP, import a
giornale di cassa and read its report, find an anomaly and note and hide it, book and close
an accertamento, read a statistics chart and drill down to its receipts, download an export;
an operator without the statistics role is refused there and never sees another ente; the
administrator reads the operations page. axe-core checks every page.

Usage: console.py BASE_URL ADMIN_TOKEN SCREENSHOT_DIR WORK_DIR BINARY
"""
import base64, hashlib, hmac, json, os, re, struct, subprocess, sys, time, urllib.error, urllib.request

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.common.exceptions import TimeoutException, NoSuchElementException, StaleElementReferenceException, WebDriverException
from selenium.webdriver.support.ui import Select, WebDriverWait

BASE, TOKEN, SHOTS, WORK, BIN = sys.argv[1:6]
HERE = os.path.dirname(os.path.abspath(__file__))
AXE = open(os.path.join(HERE, "axe.min.js")).read()
IBAN = "IT60X0542811101000000123456"
checked = []


def piva(first10):
    s = 0
    for i, c in enumerate(first10):
        d = int(c)
        if i % 2 == 1:
            d *= 2
            d = d - 9 if d > 9 else d
        s += d
    return first10 + str((10 - s % 10) % 10)


C, D = piva("0098765432"), piva("0087654321")


def api(method, path, body=None, ctype="application/json", cookie=None):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    headers = {"Content-Type": ctype}
    if cookie:
        headers["Cookie"] = "console_sessione=" + cookie
    else:
        headers["Authorization"] = "Bearer " + TOKEN
    req = urllib.request.Request(BASE + path, method=method, data=data, headers=headers)
    try:
        with urllib.request.urlopen(req) as r:
            raw = r.read()
            return r.status, (json.loads(raw) if raw[:1] in (b"{", b"[") else raw.decode())
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def ricevuta_csv(ente, iuv, iur, cents, giorno, tipo):
    c = [""] * 64
    c[2], c[3], c[4], c[5], c[11] = f"IUD-{iuv[-4:]}", iuv, "6.2.0", ente, "B"
    c[12], c[13], c[23], c[43], c[44], c[45] = "ABCDITMM", "Banca di prova", ente, "F", "RSSMRA85T10A562S", "Mario Rossi"
    c[53], c[54], c[55], c[57], c[58] = "0", f"{cents / 100:.2f}", iuv, f"{cents / 100:.2f}", "0"
    c[59], c[60], c[61], c[62], c[63] = giorno, iur, "TARI novembre", "9/0101105IM/", tipo
    return ";".join(c) + "\n"


def seed():
    for ente, ipa, nome in [(C, "c_cons", "Comune della Console"), (D, "c_altro", "Comune Altro")]:
        s, r = api("POST", "/api/v1/enti", {"id_dominio": ente, "denominazione": nome, "codice_ipa": ipa,
                                            "segregation_code": 1, "ibans": [IBAN], "flg_tesoreria": True})
        assert s == 201, r
        s, r = api("POST", f"/api/v1/enti/{ente}/tipi-dovuto", {"codice": "TARI", "descrizione": "Tassa rifiuti", "iban": IBAN,
                                                                "dati_specifici_riscossione": "9/0101105IM/", "politica_scadenza": "RIFIUTA"})
        assert s == 201, r
    righe = "intestazione\n" + "".join(
        ricevuta_csv(C, f"01000000000000{k:03d}", f"IUR{k:08d}", 1000 + 250 * k, f"2026-11-{k + 1:02d}", "TARI") for k in range(1, 7))
    s, r = api("POST", f"/api/v1/enti/{C}/ricevute", righe.encode(), "text/csv")
    assert s == 200 and r["righe_scartate"] == 0, r
    altre = "intestazione\n" + ricevuta_csv(D, "01000000000000999", "IURD", 9900, "2026-11-02", "TARI")
    s, r = api("POST", f"/api/v1/enti/{D}/ricevute", altre.encode(), "text/csv")
    assert s == 200, r


def operatore(username, nome, ruoli, enti):
    env = dict(os.environ, PAGOPA_OPERATORE_PASSWORD=f"pw-di-prova-{username}")
    out = subprocess.run([BIN, "operatore", "crea", "--username", username, "--nome", nome, "--ruoli", ruoli, "--enti", enti],
                         cwd=WORK, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    out = out.stdout
    segreto = re.search(r"segreto TOTP \(mostrato una sola volta\): (\S+)", out).group(1)
    assert "otpauth://totp/MyPivot:" + username in out, out
    assert "password:" not in out, "a given password is not printed back"
    return env["PAGOPA_OPERATORE_PASSWORD"], segreto


def totp(secret, t=None):
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">q", int((t or time.time()) // 30)), hashlib.sha1).digest()
    o = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[o:o + 4])[0] & 0x7FFFFFFF) % 1000000)


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


def text(driver):
    return driver.execute_script("return document.body ? document.body.innerText : ''") or ""


def wait_text(driver, t, timeout=20):
    try:
        WebDriverWait(driver, timeout, ignored_exceptions=(StaleElementReferenceException, NoSuchElementException, WebDriverException)).until(
            lambda d: t.lower() in text(d).lower())
    except TimeoutException:
        raise AssertionError(f"{t!r} not on {driver.current_url}:\n{text(driver)[:3000]}")


def tick(driver, input_id):
    """Bootstrap Italia draws a checkbox with its label: the label is what a person clicks."""
    label = driver.find_element(By.CSS_SELECTOR, f"label[for='{input_id}']")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", label)
    label.click()
    assert driver.find_element(By.ID, input_id).is_selected()


def submit(driver, form_id):
    b = driver.find_element(By.CSS_SELECTOR, f"#{form_id} button[type=submit]")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", b)
    try:
        b.click()
    except WebDriverException as e:
        sopra = driver.execute_script(
            "const r = arguments[0].getBoundingClientRect(); const e = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);"
            " return e ? e.outerHTML.slice(0, 300) : 'none'", b)
        raise AssertionError(f"{form_id}: covered by {sopra}") from e


def sign_in(driver, username, password, secret, name=None):
    driver.delete_all_cookies()
    driver.get(BASE + "/console")
    wait_text(driver, "Accesso alla console MyPivot")
    if name:
        accessible(driver, name + "-accesso")
    driver.find_element(By.ID, "accesso-username").send_keys(username)
    driver.find_element(By.ID, "accesso-password").send_keys(password)
    submit(driver, "accesso")
    WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.ID, "otp-codice"))
    if name:
        accessible(driver, name + "-codice")
    # A code is good once: wait for a fresh step if an earlier sign-in used this one.
    code = totp(secret)
    driver.find_element(By.ID, "otp-codice").send_keys(code)
    submit(driver, "otp")
    WebDriverWait(driver, 10).until(lambda d: "/console/accesso" not in d.current_url)
    return driver.get_cookie("console_sessione")["value"]


def main():
    seed()
    pw_anna, s_anna = operatore("anna.bianchi", "Anna Bianchi", "amministrazione,visualizzazione,accertamenti,statistiche", C)
    pw_luca, s_luca = operatore("luca.verdi", "Luca Verdi", "visualizzazione", C)
    pw_reg, s_reg = operatore("regione.admin", "Amministratore regionale", "intermediario", "")
    downloads = os.path.join(WORK, "scaricati")
    os.makedirs(downloads, exist_ok=True)
    opts = webdriver.ChromeOptions()
    for a in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1400", "--lang=it-IT"]:
        opts.add_argument(a)
    opts.add_experimental_option("prefs", {"download.default_directory": downloads, "download.prompt_for_download": False})
    opts.binary_location = "/usr/bin/chromium"
    driver = webdriver.Chrome(options=opts, service=webdriver.ChromeService(executable_path="/usr/bin/chromedriver"))
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    try:
        # Sign-in: a wrong code is refused; password and the current code let the operator in.
        driver.get(BASE + "/console/enti/" + C + "/riconciliazione")
        wait_text(driver, "Accesso alla console MyPivot")
        driver.find_element(By.ID, "accesso-username").send_keys("anna.bianchi")
        driver.find_element(By.ID, "accesso-password").send_keys(pw_anna)
        submit(driver, "accesso")
        WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.ID, "otp-codice"))
        driver.find_element(By.ID, "otp-codice").send_keys("000000" if totp(s_anna) != "000000" else "111111")
        submit(driver, "otp")
        wait_text(driver, "Codice non valido")
        sessione = sign_in(driver, "anna.bianchi", pw_anna, s_anna, "01")
        wait_text(driver, "Comune della Console")
        assert "/console/enti/" + C in driver.current_url, driver.current_url
        assert driver.find_element(By.ID, "utente").text == "Anna Bianchi"
        accessible(driver, "02-ente")
        print("ok   an operator signs in with password and one-time code (a wrong code is refused)")

        # Flussi: a giornale di cassa with a bad line; the report line by line.
        giornale = os.path.join(WORK, "giornale.csv")
        with open(giornale, "w") as f:
            f.write("ESERCIZIO;N.PROVV.;DATA ESEC.;ANAGRAFICA CLIENTE;DESCRIZIONE CAUSALE;IMPORTO PROVVISORIO;VALUTA ENTE\n"
                    "2026;101;2026-11-20;PAGOPA SPA;BONIFICO SENZA RIFERIMENTI;75.00;2026-11-20\n"
                    "2026;102;non-una-data;PAGOPA SPA;ALTRO;12.00;2026-11-21\n"
                    "2026;103;2026-11-22;TESORERIA;VERSAMENTO;30.00;2026-11-22\n")
        driver.find_element(By.LINK_TEXT, "Flussi").click()
        wait_text(driver, "Giornale di cassa")
        accessible(driver, "03-flussi")
        Select(driver.find_element(By.ID, "tesoreria-formato")).select_by_value("csv")
        driver.find_element(By.ID, "tesoreria-file").send_keys(giornale)
        submit(driver, "tesoreria")
        wait_text(driver, "Esito dell'importazione")
        report = text(driver)
        assert "giornale.csv importato" in report, report
        scarti = driver.find_elements(By.CSS_SELECTOR, "table tbody tr")
        assert any(r.find_elements(By.TAG_NAME, "td")[0].text == "3" and "non-una-data" in r.text for r in scarti), [r.text for r in scarti]
        accessible(driver, "04-esito-giornale")
        print("ok   a giornale di cassa is imported; its rejected line is reported with its number and reason")

        # Anomalie: the receipts have no flow yet; note and hide one line.
        driver.get(f"{BASE}/console/enti/{C}/anomalie")
        wait_text(driver, "RT_NO_IUF")
        accessible(driver, "05-anomalie")
        driver.find_element(By.PARTIAL_LINK_TEXT, "RT_NO_IUF (").click()
        wait_text(driver, "Righe trovate: 6")
        driver.find_element(By.ID, "nota-0-nota").send_keys("Flusso atteso dal PSP")
        tick(driver, "nota-0-nascosto")
        submit(driver, "nota-0")
        wait_text(driver, "Righe trovate: 5")
        tick(driver, "filtri-nascosti")
        submit(driver, "filtri")
        wait_text(driver, "Righe trovate: 1")
        accessible(driver, "06-anomalie-nascoste")
        driver.get(f"{BASE}/console/enti/{C}/segnalazioni")
        wait_text(driver, "Flusso atteso dal PSP")
        assert "anna.bianchi" in text(driver)
        accessible(driver, "07-storico-segnalazioni")
        for vista, name in [("riconciliazione", "08-riconciliazione"), ("ricevute", "09-ricevute"),
                            ("rendicontazione", "10-rendicontazione"), ("tesoreria", "11-tesoreria")]:
            driver.get(f"{BASE}/console/enti/{C}/{vista}")
            wait_text(driver, "Storico segnalazioni")
            accessible(driver, name)
        assert "BONIFICO SENZA RIFERIMENTI" in text(driver)
        print("ok   an anomaly is found, noted and hidden; the note is in the history with its author")

        # Accertamento: a chart line, an accertamento booked on it and closed.
        driver.get(f"{BASE}/console/enti/{C}/capitoli")
        wait_text(driver, "Piano dei capitoli")
        for k, v in [("anno", "2026"), ("cod_ufficio", "U1"), ("de_ufficio", "Tributi"), ("cod_capitolo", "C100"),
                     ("de_capitolo", "Entrate TARI"), ("cod_accertamento", "A1"), ("de_accertamento", "TARI 2026")]:
            driver.find_element(By.ID, "capitolo-" + k).send_keys(v)
        Select(driver.find_element(By.ID, "capitolo-tipo_dovuto")).select_by_value("TARI")
        submit(driver, "capitolo")
        wait_text(driver, "Entrate TARI")
        accessible(driver, "12-capitoli")
        driver.get(f"{BASE}/console/enti/{C}/accertamenti")
        wait_text(driver, "Nuovo accertamento")
        driver.find_element(By.ID, "nuovo-nome").send_keys("TARI novembre")
        Select(driver.find_element(By.ID, "nuovo-tipo_dovuto")).select_by_value("TARI")
        submit(driver, "nuovo")
        wait_text(driver, "Ricevute candidate")
        accessible(driver, "13-accertamento")
        submit(driver, "associa-0")
        # The page's own texts (the chart's lines in each form) hold the codes too: read the
        # booked payments' table, once the new page is there.
        booked = "return Array.from(document.querySelectorAll('table')).filter(t => t.caption && t.caption.innerText == 'Pagamenti accertati')" \
                 ".flatMap(t => Array.from(t.tBodies[0].rows).map(r => r.innerText))"
        WebDriverWait(driver, 10).until(lambda d: any("C100" in r for r in d.execute_script(booked)))
        righe = driver.execute_script(booked)
        assert len(righe) == 1 and "U1" in righe[0], righe
        # A second one booked by mistake, and removed.
        submit(driver, "associa-0")
        WebDriverWait(driver, 10).until(lambda d: len(d.execute_script(booked)) == 2)
        rimuovi = driver.find_elements(By.CSS_SELECTOR, "form[id^='rimuovi-']")[1].get_attribute("id")
        submit(driver, rimuovi)
        WebDriverWait(driver, 10).until(lambda d: len(d.execute_script(booked)) == 1)
        submit(driver, "chiudi")
        wait_text(driver, "CHIUSO")
        assert not driver.find_elements(By.ID, "chiudi")
        accessible(driver, "14-accertamento-chiuso")
        driver.get(f"{BASE}/console/enti/{C}/accertamenti")
        wait_text(driver, "TARI novembre")
        accessible(driver, "15-accertamenti")
        print("ok   an accertamento is created, receipts booked on a chart line (one removed again), and closed")

        # Statistiche: the chart, a bar's receipts, the CSV.
        driver.get(f"{BASE}/console/enti/{C}/statistiche?anno=2026")
        wait_text(driver, "Importo pagato per periodo")
        bars = driver.find_elements(By.CSS_SELECTOR, "svg a rect.barra")
        assert len(bars) == 1, len(bars)  # November
        label = " ".join(driver.find_element(By.CSS_SELECTOR, "svg a").get_attribute("textContent").split())
        assert label == "2026-11 112,50 €", label  # 12,50 + 15,00 + … + 25,00
        accessible(driver, "16-statistiche")
        driver.get(f"{BASE}/console/enti/{C}/statistiche?anno=2026&mese=11")
        bars = driver.find_elements(By.CSS_SELECTOR, "svg a rect.barra")
        assert len(bars) == 6, len(bars)  # one per day
        driver.find_element(By.CSS_SELECTOR, "svg a rect.barra").click()
        wait_text(driver, "Ricevute del periodo")
        assert "Ricevute: 1" in text(driver) and "01000000000000001" in text(driver), text(driver)
        accessible(driver, "17-statistiche-dettaglio")
        s, csv = api("GET", f"/console/enti/{C}/statistiche.csv?anno=2026", cookie=driver.get_cookie("console_sessione")["value"])
        assert s == 200 and "2026-11" in csv, (s, csv[:300])
        print("ok   a statistics chart is read; a bar leads to its receipts; the CSV downloads")

        # An export booked, followed, downloaded.
        driver.get(f"{BASE}/console/enti/{C}/flussi")
        Select(driver.find_element(By.ID, "export-versione")).select_by_value("1.4")
        submit(driver, "export")
        WebDriverWait(driver, 10).until(lambda d: "/export/" in d.current_url)
        accessible(driver, "18-export")
        wait_text(driver, "Scarica il file", timeout=60)
        driver.find_element(By.LINK_TEXT, "Scarica il file").click()
        deadline = time.time() + 20
        files = []
        while time.time() < deadline:
            files = [f for f in os.listdir(downloads) if not f.endswith(".crdownload") and not f.startswith(".")]
            if files:
                break
            time.sleep(0.2)
        assert files == [f"riconciliazione-{C}-{driver.current_url.rsplit('/', 1)[1]}.csv"], files
        body = open(os.path.join(downloads, files[0]), "rb").read().decode("utf-8", "replace")
        assert "01000000000000002" in body, body[-1500:]
        print(f"ok   an export (tracciato 1.4) is booked, followed and downloaded ({files[0]}, {len(body)} bytes)")

        # A viewer: no statistics, no other ente, no operations.
        sign_in(driver, "luca.verdi", pw_luca, s_luca)
        wait_text(driver, "Comune della Console")
        menu = driver.find_element(By.ID, "menu-console").text
        assert "Visualizzazione" in menu and "Statistiche" not in menu and "Flussi" not in menu, menu
        for path, atteso, name in [(f"/console/enti/{C}/statistiche", "Accesso non consentito", "19-statistiche-rifiutate"),
                                   (f"/console/enti/{C}/flussi", "Accesso non consentito", None),
                                   (f"/console/enti/{D}/riconciliazione", "Pagina non trovata", "20-altro-ente"),
                                   ("/console/ops", "Accesso non consentito", None)]:
            driver.get(BASE + path)
            wait_text(driver, atteso)
            if name:
                accessible(driver, name)
        cookie = driver.get_cookie("console_sessione")["value"]
        assert api("GET", f"/api/v1/enti/{C}/statistiche", cookie=cookie)[0] == 403
        assert api("GET", f"/api/v1/enti/{D}/ricevute", cookie=cookie)[0] == 404
        s, enti = api("GET", "/api/v1/enti", cookie=cookie)
        assert s == 200 and [e["id_dominio"] for e in enti["items"]] == [C], enti
        driver.get(f"{BASE}/console/enti/{C}/ricevute")
        assert "01000000000000999" not in text(driver)
        print("ok   an operator without the statistics role is refused there (page and API) and never sees another ente")

        # The intermediary's administrator: every ente, the operations page, a message's XML.
        sign_in(driver, "regione.admin", pw_reg, s_reg)
        wait_text(driver, "I tuoi enti")
        accessible(driver, "21-enti")
        driver.get(BASE + "/console/ops")
        wait_text(driver, "Registro delle modifiche")
        page = text(driver)
        assert "anna.bianchi" in page and "Comune Altro" in page, page[:2000]
        accessible(driver, "22-operazioni")
        # A SOAP exchange of the portal's payments (when the portal's suite ran first).
        soap = [a.get_attribute("href") for a in driver.find_elements(By.CSS_SELECTOR, "a[href^='/console/ops/journal/']")
                if re.search(r"\b(pa|paa|nodo)[A-Z]\w+", a.find_element(By.XPATH, "../..").text)]
        if soap:
            driver.get(soap[0])
            wait_text(driver, "Richiesta")
            assert "Envelope" in text(driver), text(driver)[:3000]
            accessible(driver, "23-messaggio")
        driver.find_element(By.CSS_SELECTOR, "form[action='/console/esci'] button").click()
        wait_text(driver, "Accesso alla console MyPivot")
        assert api("GET", "/api/v1/enti", cookie=cookie)[0] == 200, "another operator's session is untouched"
        print("ok   the administrator reads enti, operators, outbox, quarantine, journal and changes; signs out")
        print(f"ok   axe-core finds no serious violation on {len(checked)} console pages: {', '.join(checked)}")
    except Exception:
        shot(driver, "zz-errore")
        raise
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
