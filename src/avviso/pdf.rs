//! A small PDF 1.4 writer for what the notices need: text in the standard Helvetica faces
//! (WinAnsi, so Italian accents and the euro sign come out), filled rectangles and lines,
//! and 2D codes drawn module by module. No fonts to embed, no images: a notice is a few
//! kilobytes, and every reader (and `pdftotext`) reads it.

use std::io::Write as _;

/// A4 in points.
pub const LARGHEZZA: f32 = 595.0;
pub const ALTEZZA: f32 = 842.0;

#[derive(Debug, Clone, Copy)]
pub enum Carattere {
    Normale,
    Grassetto,
}

/// One page's drawing operations, with y measured from the top (as one lays a page out).
#[derive(Debug, Default)]
pub struct Pagina {
    ops: Vec<u8>,
}

impl Pagina {
    /// Text with its baseline at (`x`, `y` from the top).
    pub fn testo(&mut self, x: f32, y: f32, size: f32, font: Carattere, s: &str) {
        let f = match font {
            Carattere::Normale => "F1",
            Carattere::Grassetto => "F2",
        };
        let _ = write!(
            self.ops,
            "BT /{f} {size:.1} Tf {x:.2} {:.2} Td (",
            ALTEZZA - y
        );
        self.ops.extend_from_slice(&escape(s));
        self.ops.extend_from_slice(b") Tj ET\n");
    }

    /// Text wrapped to `larghezza` points (Helvetica's average width), from `y` down;
    /// returns the y below the last line.
    pub fn paragrafo(&mut self, x: f32, y: f32, larghezza: f32, size: f32, s: &str) -> f32 {
        let per_riga = ((larghezza / (size * 0.5)) as usize).max(10);
        let mut y = y;
        let mut riga = String::new();
        for parola in s.split_whitespace() {
            if !riga.is_empty() && riga.chars().count() + 1 + parola.chars().count() > per_riga {
                self.testo(x, y, size, Carattere::Normale, &riga);
                y += size * 1.3;
                riga.clear();
            }
            if !riga.is_empty() {
                riga.push(' ');
            }
            riga.push_str(parola);
        }
        if !riga.is_empty() {
            self.testo(x, y, size, Carattere::Normale, &riga);
            y += size * 1.3;
        }
        y
    }

    /// A rectangle filled with a grey level (0 black, 1 white), top-left at (`x`, `y`).
    pub fn rettangolo(&mut self, x: f32, y: f32, w: f32, h: f32, grigio: f32) {
        let _ = writeln!(
            self.ops,
            "{grigio:.2} g {x:.2} {:.2} {w:.2} {h:.2} re f 0 g",
            ALTEZZA - y - h
        );
    }

    /// A horizontal rule.
    pub fn riga(&mut self, x: f32, y: f32, w: f32) {
        let yy = ALTEZZA - y;
        let _ = writeln!(self.ops, "0.5 w {x:.2} {yy:.2} m {:.2} {yy:.2} l S", x + w);
    }

    /// A 2D code: `dark(col, row)` for each of `n × m` modules of `modulo` points, with
    /// its top-left corner at (`x`, `y`). Adjacent dark modules of a row are one rectangle.
    pub fn codice(
        &mut self,
        x: f32,
        y: f32,
        modulo: f32,
        (colonne, righe): (usize, usize),
        dark: impl Fn(usize, usize) -> bool,
    ) {
        for r in 0..righe {
            let mut c = 0;
            while c < colonne {
                if dark(c, r) {
                    let start = c;
                    while c < colonne && dark(c, r) {
                        c += 1;
                    }
                    let _ = writeln!(
                        self.ops,
                        "{:.3} {:.3} {:.3} {:.3} re",
                        x + start as f32 * modulo,
                        ALTEZZA - y - (r + 1) as f32 * modulo,
                        (c - start) as f32 * modulo,
                        modulo
                    );
                } else {
                    c += 1;
                }
            }
        }
        self.ops.extend_from_slice(b"f\n");
    }
}

/// The document: pages in order, then the bytes.
pub fn documento(pagine: &[Pagina], titolo: &str) -> Vec<u8> {
    let mut out: Vec<u8> = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets: Vec<usize> = Vec::new();
    let obj = |out: &mut Vec<u8>, offsets: &mut Vec<usize>, body: &[u8]| {
        offsets.push(out.len());
        let n = offsets.len();
        out.extend_from_slice(format!("{n} 0 obj\n").as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    };
    // 1 catalog, 2 pages, 3-4 fonts, 5 info, then page i: 6 + 2i, its content 7 + 2i.
    let kids: Vec<String> = (0..pagine.len())
        .map(|i| format!("{} 0 R", 6 + 2 * i))
        .collect();
    obj(&mut out, &mut offsets, b"<< /Type /Catalog /Pages 2 0 R >>");
    obj(
        &mut out,
        &mut offsets,
        format!(
            "<< /Type /Pages /Kids [{}] /Count {} >>",
            kids.join(" "),
            pagine.len()
        )
        .as_bytes(),
    );
    for base in ["Helvetica", "Helvetica-Bold"] {
        obj(
            &mut out,
            &mut offsets,
            format!(
                "<< /Type /Font /Subtype /Type1 /BaseFont /{base} /Encoding /WinAnsiEncoding >>"
            )
            .as_bytes(),
        );
    }
    let mut info = b"<< /Producer (pagopa-gateway) /Title (".to_vec();
    info.extend_from_slice(&escape(titolo));
    info.extend_from_slice(b") >>");
    obj(&mut out, &mut offsets, &info);
    for (i, p) in pagine.iter().enumerate() {
        obj(
            &mut out,
            &mut offsets,
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {LARGHEZZA} {ALTEZZA}] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {} 0 R >>",
                7 + 2 * i
            )
            .as_bytes(),
        );
        let mut stream = format!("<< /Length {} >>\nstream\n", p.ops.len()).into_bytes();
        stream.extend_from_slice(&p.ops);
        stream.extend_from_slice(b"endstream");
        obj(&mut out, &mut offsets, &stream);
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1).as_bytes(),
    );
    for o in &offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R /Info 5 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            offsets.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// A string as a PDF literal in WinAnsi: Latin-1 letters as themselves, the euro sign as
/// 0x80, the delimiters escaped, anything else (no glyph in the standard fonts) as `?`.
fn escape(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '(' | ')' | '\\' => {
                out.push(b'\\');
                out.push(c as u8);
            }
            '€' => out.push(0x80),
            '’' => out.push(0x92),
            c if (' '..='~').contains(&c) || ('\u{a0}'..='\u{ff}').contains(&c) => {
                out.push(c as u32 as u8)
            }
            _ => out.push(b'?'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_encoded_in_winansi() {
        assert_eq!(escape("a(b)\\ è €"), b"a\\(b\\)\\\\ \xe8 \x80".to_vec());
        assert_eq!(escape("日"), b"?".to_vec());
    }

    #[test]
    fn the_cross_reference_table_points_at_every_object() {
        let mut p = Pagina::default();
        p.testo(10.0, 10.0, 12.0, Carattere::Grassetto, "Avviso");
        let pdf = documento(&[p, Pagina::default()], "prova");
        let find = |needle: &[u8]| {
            pdf.windows(needle.len())
                .rposition(|w| w == needle)
                .unwrap()
        };
        let xref = find(b"\nxref\n") + 1;
        let tail = std::str::from_utf8(&pdf[find(b"startxref\n") + 10..]).unwrap();
        assert_eq!(tail.lines().next().unwrap().parse::<usize>().unwrap(), xref);
        let table = std::str::from_utf8(&pdf[xref..]).unwrap();
        let entries: Vec<usize> = table
            .lines()
            .skip(3)
            .take_while(|l| l.ends_with(" n "))
            .map(|l| l[..10].parse().unwrap())
            .collect();
        assert_eq!(entries.len(), 9);
        for (i, off) in entries.iter().enumerate() {
            let head = format!("{} 0 obj", i + 1);
            assert!(pdf[*off..].starts_with(head.as_bytes()), "object {}", i + 1);
        }
    }
}
