//! OpenCV models stored with `cv::FileStorage` (XML or YAML): cascade classifiers (Haar, LBP,
//! HOG) and the `cv::ml` models (SVM, ANN_MLP, Boost, RTrees, …).
//!
//! `FileStorage` writes `<?xml version="1.0"?>` and `<opencv_storage>`, or `%YAML:1.0` and
//! `---`, then the top-level nodes. The trained objects are recognised by their first node:
//! * cascades (`objdetect/src/cascadedetect.cpp`, `CascadeClassifierImpl::Data::read`): a node
//!   named `cascade` (the new format, `traincascade`), or one of type
//!   `opencv-haar-classifier` (the old Haar format, read by `haar.cpp`);
//! * `cv::ml` models (`ml/src/*.cpp`, `write`): a node named after the model's default name
//!   (`opencv_ml_svm`, `opencv_ml_ann_mlp`, `opencv_ml_boost`, `opencv_ml_rtrees`, …), or of
//!   an OpenCV 2 type (`opencv-ml-svm`, …), or, saved under another name, `format: 3` with the
//!   model's own keys.
//!
//! Files can be tens of megabytes, and a comment block (licences) may come first: only the
//! first `markup-prefix-bytes` are read.

use std::io::{self, Read, Seek};

use super::{Details, Probe};

/// Which trained object a `FileStorage` file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Model {
    Cascade(String),
    Ml(String),
}

pub(super) fn check_cascade<R: Read + Seek>(probe: &mut Probe<R>) -> io::Result<Option<Details>> {
    Ok(match model(probe)? {
        Some(Model::Cascade(note)) => Some(Details::note(note)),
        _ => None,
    })
}

pub(super) fn check_ml<R: Read + Seek>(probe: &mut Probe<R>) -> io::Result<Option<Details>> {
    Ok(match model(probe)? {
        Some(Model::Ml(note)) => Some(Details::note(note)),
        _ => None,
    })
}

fn model<R: Read + Seek>(probe: &mut Probe<R>) -> io::Result<Option<Model>> {
    let start = probe
        .head
        .strip_prefix(b"\xef\xbb\xbf")
        .unwrap_or(&probe.head);
    let start = start.trim_ascii_start();
    let xml = start.starts_with(b"<?xml");
    if !xml && !start.starts_with(b"%YAML") {
        return Ok(None);
    }
    let prefix = probe.read_at(0, probe.limits.markup_prefix_bytes)?;
    let text = String::from_utf8_lossy(&prefix);
    Ok(if xml {
        from_xml(&text)
    } else {
        from_yaml(&text)
    })
}

fn from_xml(text: &str) -> Option<Model> {
    let storage = text.find("<opencv_storage>")?;
    let mut rest = &text[storage + "<opencv_storage>".len()..];
    // The first element, after comments.
    let (name, attributes) = loop {
        rest = rest.trim_start();
        if let Some(comment) = rest.strip_prefix("<!--") {
            rest = &comment[comment.find("-->")? + 3..];
            continue;
        }
        let tag = rest.strip_prefix('<')?;
        let end = tag.find('>')?;
        let tag = &tag[..end];
        let name_end = tag
            .find(|c: char| c.is_whitespace() || c == '/')
            .unwrap_or(tag.len());
        break (&tag[..name_end], &tag[name_end..]);
    };
    let type_id = attributes
        .split("type_id=\"")
        .nth(1)
        .and_then(|v| v.split('"').next())
        .unwrap_or_default();
    classify(name, type_id, text, Syntax::Xml)
}

fn from_yaml(text: &str) -> Option<Model> {
    let body = &text[text.find("\n---")? + 4..];
    // The first top-level key: a line that starts at column 0 with `name:`.
    let line = body
        .lines()
        .find(|l| !l.trim().is_empty() && !l.starts_with([' ', '#']))?;
    let (name, value) = line.split_once(':')?;
    let type_id = value.trim().strip_prefix("!!").unwrap_or_default();
    classify(name.trim(), type_id, text, Syntax::Yaml)
}

#[derive(Clone, Copy)]
enum Syntax {
    Xml,
    Yaml,
}

/// The value of the first `key` node in the prefix (`<key>value</key>` or `key: value`).
fn node_value<'a>(text: &'a str, key: &str, syntax: Syntax) -> Option<&'a str> {
    match syntax {
        Syntax::Xml => {
            // `<key>` or `<key type_id="…">`.
            let open = format!("<{key}");
            let mut from = 0;
            let tag = loop {
                let at = from + text[from..].find(&open)? + open.len();
                match text[at..].chars().next()? {
                    '>' | ' ' => break at,
                    _ => from = at,
                }
            };
            let start = tag + text[tag..].find('>')? + 1;
            let len = text[start..].find('<')?;
            Some(text[start..start + len].trim())
        }
        Syntax::Yaml => text.lines().find_map(|line| {
            let (name, value) = line.trim_start().split_once(':')?;
            (name == key).then(|| value.trim())
        }),
    }
}

fn classify(name: &str, type_id: &str, text: &str, syntax: Syntax) -> Option<Model> {
    if name == "cascade" || type_id == "opencv-haar-classifier" {
        let features = node_value(text, "featureType", syntax).unwrap_or("HAAR");
        let features = if features.is_empty() {
            "HAAR"
        } else {
            features
        };
        let mut note = format!("OpenCV cascade classifier, {features} features");
        if let Some(stages) = node_value(text, "stageNum", syntax) {
            note.push_str(&format!(", {stages} stages"));
        }
        return Some(Model::Cascade(note));
    }
    if let Some(kind) = name
        .strip_prefix("opencv_ml_")
        .or_else(|| type_id.strip_prefix("opencv-ml-"))
    {
        return Some(Model::Ml(format!("OpenCV ml model: {kind}")));
    }
    // A model saved under a name of its own: `format: 3` and the keys only that model writes.
    if node_value(text, "format", syntax) == Some("3") {
        let markers = [
            ("svm", "svmType"),
            ("ann_mlp", "layer_sizes"),
            ("boost", "boostType"),
            ("rtrees", "ntrees"),
        ];
        for (kind, key) in markers {
            if node_value(text, key, syntax).is_some() {
                return Some(Model::Ml(format!("OpenCV ml model: {kind}")));
            }
        }
    }
    None
}
