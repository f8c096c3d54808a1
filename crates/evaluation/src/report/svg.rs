//! SVG plots. They scale (`viewBox`, width 100 %), label both axes with
//! tick values, and use presentation attributes and classes only: the web
//! app's CSP forbids `style=` attributes. The root sets `direction="ltr"`
//! so that axis text keeps its anchors inside right-to-left (Arabic) pages.

use std::fmt::Write;

use super::labels::{Key, Lang, text};
use super::{Estimate, EventStudy, RdSection, escape};

/// Linear map from data to drawing coordinates.
#[derive(Clone, Copy)]
struct Scale {
    d0: f64,
    d1: f64,
    r0: f64,
    r1: f64,
}

impl Scale {
    fn at(self, v: f64) -> f64 {
        self.r0 + (v - self.d0) / (self.d1 - self.d0) * (self.r1 - self.r0)
    }
}

/// Domain padded by 6 % on each side; a degenerate range is widened.
fn padded(lo: f64, hi: f64) -> (f64, f64) {
    let (lo, hi) = if (hi - lo).abs() < 1e-12 {
        (lo - 0.5 - lo.abs() * 0.1, hi + 0.5 + hi.abs() * 0.1)
    } else {
        (lo, hi)
    };
    let pad = (hi - lo) * 0.06;
    (lo - pad, hi + pad)
}

fn min_max(v: impl IntoIterator<Item = f64>) -> (f64, f64) {
    v.into_iter()
        .filter(|x| x.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
            (a.min(x), b.max(x))
        })
}

/// "Nice" ticks (1, 2, 5 × 10^k) covering `[lo, hi]`, with the decimals to print them.
fn ticks(lo: f64, hi: f64, target: usize) -> (Vec<f64>, usize) {
    let raw = (hi - lo) / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    let t = (first..=last).map(|k| k as f64 * step).collect();
    (t, decimals)
}

fn tick_label(v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s[1..].to_string()
    } else {
        s
    }
}

/// Plot geometry: canvas size and margins.
struct Canvas {
    w: f64,
    h: f64,
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
}

impl Canvas {
    fn x(&self, lo: f64, hi: f64) -> Scale {
        Scale {
            d0: lo,
            d1: hi,
            r0: self.left,
            r1: self.w - self.right,
        }
    }
    fn y(&self, lo: f64, hi: f64) -> Scale {
        Scale {
            d0: lo,
            d1: hi,
            r0: self.h - self.bottom,
            r1: self.top,
        }
    }
}

fn open(c: &Canvas, class: &str, title: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"eval-svg {class}\" viewBox=\"0 0 {} {}\" \
         width=\"100%\" preserveAspectRatio=\"xMidYMid meet\" role=\"img\" aria-label=\"{t}\" \
         direction=\"ltr\" font-family=\"sans-serif\" font-size=\"12\">\n<title>{t}</title>\n",
        c.w,
        c.h,
        t = escape(title)
    )
}

/// Tick marks, grid lines, tick values and axis titles.
fn axes(
    c: &Canvas,
    xs: Scale,
    ys: Scale,
    xt: &(Vec<f64>, usize),
    yt: &(Vec<f64>, usize),
    xl: &str,
    yl: &str,
) -> String {
    let (bx, by) = (c.h - c.bottom, c.left);
    let mut s = String::from("<g class=\"axes\">\n");
    for &v in &yt.0 {
        let y = ys.at(v);
        let _ = writeln!(
            s,
            "<line class=\"grid\" x1=\"{by:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"#e4e7eb\" stroke-width=\"1\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#323f4b\">{}</text>",
            c.w - c.right,
            by - 6.0,
            y + 4.0,
            tick_label(v, yt.1)
        );
    }
    for &v in &xt.0 {
        let x = xs.at(v);
        let _ = writeln!(
            s,
            "<line class=\"tick\" x1=\"{x:.1}\" y1=\"{bx:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#52606d\" stroke-width=\"1\"/>\
             <text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#323f4b\">{}</text>",
            bx + 5.0,
            bx + 18.0,
            tick_label(v, xt.1)
        );
    }
    let _ = writeln!(
        s,
        "<line class=\"axis\" x1=\"{by:.1}\" y1=\"{bx:.1}\" x2=\"{:.1}\" y2=\"{bx:.1}\" stroke=\"#52606d\" stroke-width=\"1\"/>\
         <line class=\"axis\" x1=\"{by:.1}\" y1=\"{:.1}\" x2=\"{by:.1}\" y2=\"{bx:.1}\" stroke=\"#52606d\" stroke-width=\"1\"/>",
        c.w - c.right,
        c.top
    );
    let _ = writeln!(
        s,
        "<text class=\"axis-title\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#1f2933\">{}</text>",
        (c.left + c.w - c.right) / 2.0,
        c.h - 8.0,
        escape(xl)
    );
    if !yl.is_empty() {
        let (x, y) = (16.0, (c.top + c.h - c.bottom) / 2.0);
        let _ = writeln!(
            s,
            "<text class=\"axis-title\" x=\"{x:.1}\" y=\"{y:.1}\" transform=\"rotate(-90 {x:.1} {y:.1})\" text-anchor=\"middle\" fill=\"#1f2933\">{}</text>",
            escape(yl)
        );
    }
    s.push_str("</g>\n");
    s
}

fn figure(svg: String, caption: &str) -> String {
    format!(
        "<figure class=\"eval-figure\">\n{svg}<figcaption>{}</figcaption>\n</figure>\n",
        escape(caption)
    )
}

fn hline(xs: Scale, ys: Scale, y: f64, class: &str) -> String {
    format!(
        "<line class=\"{class}\" x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#1f2933\" stroke-width=\"1\" stroke-dasharray=\"4 3\"/>\n",
        xs.r0,
        ys.at(y),
        xs.r1,
        ys.at(y)
    )
}

fn vline(xs: Scale, ys: Scale, x: f64, class: &str) -> String {
    format!(
        "<line class=\"{class}\" x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#1f2933\" stroke-width=\"1\" stroke-dasharray=\"4 3\"/>\n",
        xs.at(x),
        ys.r0,
        xs.at(x),
        ys.r1
    )
}

const ITT_COLOUR: &str = "#1f6feb";
const LATE_COLOUR: &str = "#c2410c";

/// Coefficient plot: ITT and LATE with their CIs for each outcome, in
/// control-group standard deviations so outcomes in different units share
/// one axis; a dashed line marks zero.
pub fn coef_plot_svg(rows: &[Estimate], level: f64, lang: Lang) -> String {
    let t = |k| text(lang, k);
    let row_h = 46.0;
    let c = Canvas {
        w: 720.0,
        h: 70.0 + 50.0 + row_h * rows.len().max(1) as f64,
        left: 190.0,
        right: 20.0,
        top: 40.0,
        bottom: 50.0,
    };
    let sd = |r: &Estimate| {
        if r.control_sd.is_finite() && r.control_sd > 0.0 {
            r.control_sd
        } else {
            1.0
        }
    };
    let ends = rows.iter().flat_map(|r| {
        let s = sd(r);
        let mut v = vec![r.itt.ci_low / s, r.itt.ci_high / s];
        if let Some(l) = &r.late {
            v.extend([l.ci_low / s, l.ci_high / s]);
        }
        v
    });
    let (lo, hi) = min_max(ends.chain([0.0]));
    let (lo, hi) = padded(lo, hi);
    let xs = c.x(lo, hi);
    let xt = ticks(lo, hi, 6);
    let mut s = open(&c, "eval-coefplot", t(Key::CoefPlot));
    let ys = Scale {
        d0: 0.0,
        d1: 1.0,
        r0: c.h - c.bottom,
        r1: c.top,
    };
    s.push_str(&axes(&c, xs, ys, &xt, &(vec![], 0), t(Key::EffectSd), ""));
    s.push_str(&vline(xs, ys, 0.0, "zero"));
    legend(&mut s, c.left, 18.0, level, lang);
    for (i, r) in rows.iter().enumerate() {
        let yc = c.top + 10.0 + row_h * (i as f64 + 0.5);
        let sdv = sd(r);
        let _ = writeln!(
            s,
            "<text class=\"row-label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#1f2933\">{}</text>",
            c.left - 10.0,
            yc + 4.0,
            escape(&r.label)
        );
        marker(
            &mut s,
            xs,
            yc - 7.0,
            r.itt.estimate / sdv,
            r.itt.ci_low / sdv,
            r.itt.ci_high / sdv,
            false,
        );
        if let Some(l) = &r.late {
            marker(
                &mut s,
                xs,
                yc + 7.0,
                l.estimate / sdv,
                l.ci_low / sdv,
                l.ci_high / sdv,
                true,
            );
        }
    }
    s.push_str("</svg>\n");
    figure(s, t(Key::CoefPlot))
}

fn legend(s: &mut String, x: f64, y: f64, level: f64, lang: Lang) {
    let _ = writeln!(
        s,
        "<g class=\"legend\"><circle cx=\"{:.1}\" cy=\"{y:.1}\" r=\"4\" fill=\"{ITT_COLOUR}\"/>\
         <text x=\"{:.1}\" y=\"{:.1}\" fill=\"#1f2933\">{}</text>\
         <rect x=\"{:.1}\" y=\"{:.1}\" width=\"8\" height=\"8\" fill=\"{LATE_COLOUR}\"/>\
         <text x=\"{:.1}\" y=\"{:.1}\" fill=\"#1f2933\">{}</text>\
         <text x=\"{:.1}\" y=\"{:.1}\" fill=\"#52606d\">{} {:.0} %</text></g>",
        x + 4.0,
        x + 14.0,
        y + 4.0,
        escape(text(lang, Key::Itt)),
        x + 200.0,
        y - 4.0,
        x + 214.0,
        y + 4.0,
        escape(text(lang, Key::Late)),
        x + 400.0,
        y + 4.0,
        escape(text(lang, Key::Ci)),
        level * 100.0
    );
}

#[allow(clippy::too_many_arguments)]
fn marker(s: &mut String, xs: Scale, y: f64, est: f64, lo: f64, hi: f64, square: bool) {
    let (colour, class) = if square {
        (LATE_COLOUR, "late")
    } else {
        (ITT_COLOUR, "itt")
    };
    let _ = writeln!(
        s,
        "<g class=\"{class}\"><line x1=\"{:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"{colour}\" stroke-width=\"2\"/>\
         <line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{colour}\" stroke-width=\"2\"/>\
         <line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{colour}\" stroke-width=\"2\"/>",
        xs.at(lo),
        xs.at(hi),
        xs.at(lo),
        y - 4.0,
        xs.at(lo),
        y + 4.0,
        xs.at(hi),
        y - 4.0,
        xs.at(hi),
        y + 4.0
    );
    if square {
        let _ = writeln!(
            s,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"9\" height=\"9\" fill=\"{colour}\"/></g>",
            xs.at(est) - 4.5,
            y - 4.5
        );
    } else {
        let _ = writeln!(
            s,
            "<circle cx=\"{:.1}\" cy=\"{y:.1}\" r=\"5\" fill=\"{colour}\"/></g>",
            xs.at(est)
        );
    }
}

/// RD plot: binned means on each side of the cutoff, the local linear fits
/// within the bandwidth, and the cutoff as a dashed vertical line.
pub fn rd_plot_svg(rd: &RdSection, lang: Lang) -> String {
    let t = |k| text(lang, k);
    let c = Canvas {
        w: 720.0,
        h: 420.0,
        left: 70.0,
        right: 20.0,
        top: 20.0,
        bottom: 50.0,
    };
    let fit_at = |f: &super::LineFit, x: f64| f.intercept + f.slope * (x - rd.spec.cutoff);
    let fits = [&rd.fit_left, &rd.fit_right];
    let (x0, x1) = min_max(
        rd.bins
            .iter()
            .flat_map(|b| [b.lower, b.upper])
            .chain([rd.spec.cutoff]),
    );
    let (y0, y1) = min_max(
        rd.bins.iter().map(|b| b.mean_y).chain(
            fits.iter()
                .flat_map(|f| [fit_at(f, f.from), fit_at(f, f.to)]),
        ),
    );
    let ((x0, x1), (y0, y1)) = (padded(x0, x1), padded(y0, y1));
    let (xs, ys) = (c.x(x0, x1), c.y(y0, y1));
    let ylabel = rd.spec.label.clone().unwrap_or_else(|| rd.spec.y.clone());
    let mut s = open(&c, "eval-rdplot", t(Key::RdPlot));
    s.push_str(&axes(
        &c,
        xs,
        ys,
        &ticks(x0, x1, 7),
        &ticks(y0, y1, 6),
        t(Key::RunningVariable),
        &ylabel,
    ));
    s.push_str(&vline(xs, ys, rd.spec.cutoff, "cutoff"));
    s.push_str("<g class=\"bins\">\n");
    for b in &rd.bins {
        let _ = writeln!(
            s,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3.5\" fill=\"#52606d\"/>",
            xs.at(b.mean_x),
            ys.at(b.mean_y)
        );
    }
    s.push_str("</g>\n<g class=\"fits\">\n");
    for f in fits {
        let _ = writeln!(
            s,
            "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{ITT_COLOUR}\" stroke-width=\"2.5\"/>",
            xs.at(f.from),
            ys.at(fit_at(f, f.from)),
            xs.at(f.to),
            ys.at(fit_at(f, f.to))
        );
    }
    let _ = writeln!(
        s,
        "</g>\n<text class=\"cutoff-label\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"start\" fill=\"#1f2933\">{} = {}</text>",
        xs.at(rd.spec.cutoff) + 4.0,
        c.top + 12.0,
        escape(t(Key::Cutoff)),
        rd.spec.cutoff
    );
    s.push_str("</svg>\n");
    let caption = format!(
        "{} ; {} (h = {})",
        t(Key::BinnedMeans),
        t(Key::LocalFit),
        super::num(rd.result.h)
    );
    figure(s, &caption)
}

/// Event-study plot: dynamic effects by event time with a pointwise CI band,
/// zero line and a dashed line where treatment starts.
pub fn event_study_svg(es: &EventStudy, lang: Lang) -> String {
    let t = |k| text(lang, k);
    let c = Canvas {
        w: 720.0,
        h: 400.0,
        left: 70.0,
        right: 20.0,
        top: 20.0,
        bottom: 50.0,
    };
    let eff = &es.dynamic.effects;
    let (k0, k1) = min_max(eff.iter().map(|e| e.key));
    let (k0, k1) = (k0 - 0.5, k1 + 0.5);
    let (y0, y1) = min_max(eff.iter().flat_map(|e| [e.ci_low, e.ci_high]).chain([0.0]));
    let (y0, y1) = padded(y0, y1);
    let (xs, ys) = (c.x(k0, k1), c.y(y0, y1));
    let xt = ((k0.ceil() as i64)..=(k1.floor() as i64))
        .map(|k| k as f64)
        .collect();
    let mut s = open(&c, "eval-eventplot", t(Key::EventStudy));
    s.push_str(&axes(
        &c,
        xs,
        ys,
        &(xt, 0),
        &ticks(y0, y1, 6),
        t(Key::EventTime),
        &es.label,
    ));
    let upper = eff
        .iter()
        .map(|e| format!("{:.1},{:.1}", xs.at(e.key), ys.at(e.ci_high)));
    let lower = eff
        .iter()
        .rev()
        .map(|e| format!("{:.1},{:.1}", xs.at(e.key), ys.at(e.ci_low)));
    let band: Vec<String> = upper.chain(lower).collect();
    let _ = writeln!(
        s,
        "<polygon class=\"band\" points=\"{}\" fill=\"{ITT_COLOUR}\" fill-opacity=\"0.18\" stroke=\"none\"/>",
        band.join(" ")
    );
    s.push_str(&hline(xs, ys, 0.0, "zero"));
    s.push_str(&vline(xs, ys, -0.5, "start"));
    let line: Vec<String> = eff
        .iter()
        .map(|e| format!("{:.1},{:.1}", xs.at(e.key), ys.at(e.att)))
        .collect();
    let _ = writeln!(
        s,
        "<polyline class=\"effects\" points=\"{}\" fill=\"none\" stroke=\"{ITT_COLOUR}\" stroke-width=\"2\"/>",
        line.join(" ")
    );
    for e in eff {
        let _ = writeln!(
            s,
            "<circle class=\"effect\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\" fill=\"{ITT_COLOUR}\"/>",
            xs.at(e.key),
            ys.at(e.att)
        );
    }
    s.push_str("</svg>\n");
    figure(
        s,
        &format!(
            "{} ; {} {:.0} %",
            t(Key::Effect),
            t(Key::PointwiseCi),
            es.level * 100.0
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_ticks() {
        let (t, d) = ticks(0.0, 1.0, 5);
        let labels: Vec<String> = t.iter().map(|v| tick_label(*v, d)).collect();
        assert_eq!(labels, ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]);
        let (t, d) = ticks(-130.0, 420.0, 6);
        assert_eq!(
            (t.first().copied(), t.last().copied(), d),
            (Some(-100.0), Some(400.0), 0)
        );
        assert_eq!(tick_label(-0.0001, 2), "0.00");
    }
}
