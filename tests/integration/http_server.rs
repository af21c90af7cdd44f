//! A loopback HTTP/1.1 server for download tests: serves byte bodies by path, honours
//! `Range: bytes=N-`, and injects scripted faults (status codes, dropped connections, lying
//! lengths, redirects, slow bodies). Every request is logged so tests can assert retries and
//! resumption. One response per connection (`Connection: close`).

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

#[derive(Clone, Debug)]
pub enum Fault {
    /// Answer with this status and a short body.
    Status(u16),
    /// Send the headers and only this many body bytes, then close.
    DropAfter(usize),
    /// Declare this total size (Content-Length / Content-Range) whatever the body is.
    ClaimSize(u64),
    /// 302 to this location.
    Redirect(String),
    /// Send the body in `chunk`-byte pieces with `delay` between them.
    Slow { chunk: usize, delay: Duration },
}

#[derive(Clone, Debug)]
pub struct Logged {
    pub path: String,
    /// Start offset of a `Range: bytes=N-` request.
    pub range_start: Option<u64>,
}

#[derive(Default)]
struct Route {
    body: Vec<u8>,
    /// Consumed one per request, in order.
    once: VecDeque<Fault>,
    /// Applied to every request once `once` is empty.
    always: Option<Fault>,
}

#[derive(Default)]
struct State {
    routes: HashMap<String, Route>,
    log: Vec<Logged>,
}

pub struct Server {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl Server {
    pub fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::clone(&state);
        // The accept loop lives as long as the test process; each test has its own server.
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = Arc::clone(&shared);
                thread::spawn(move || {
                    // A client that hangs up mid-response is a scenario, not an error.
                    let _ = handle(stream, &state);
                });
            }
        });
        Server { addr, state }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Serves `body` at `path`; `once` faults apply to the first requests, `always` after them.
    pub fn route(&self, path: &str, body: &[u8], once: Vec<Fault>, always: Option<Fault>) {
        self.state.lock().unwrap().routes.insert(
            path.to_owned(),
            Route {
                body: body.to_vec(),
                once: once.into(),
                always,
            },
        );
    }

    pub fn serve(&self, path: &str, body: &[u8]) {
        self.route(path, body, Vec::new(), None);
    }

    pub fn requests(&self) -> Vec<Logged> {
        self.state.lock().unwrap().log.clone()
    }
}

fn handle(stream: TcpStream, state: &Mutex<State>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_owned();
    let mut range_start = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("range")
        {
            range_start = value
                .trim()
                .strip_prefix("bytes=")
                .and_then(|r| r.strip_suffix('-'))
                .and_then(|n| n.parse::<u64>().ok());
        }
    }
    let (body, fault) = {
        let mut state = state.lock().unwrap();
        state.log.push(Logged {
            path: path.clone(),
            range_start,
        });
        match state.routes.get_mut(&path) {
            Some(route) => {
                let fault = route.once.pop_front().or_else(|| route.always.clone());
                (Some(route.body.clone()), fault)
            }
            None => (None, None),
        }
    };
    let mut out = stream;
    let Some(body) = body else {
        return write_status(&mut out, 404);
    };
    match fault {
        Some(Fault::Status(code)) => write_status(&mut out, code),
        Some(Fault::Redirect(location)) => write!(
            out,
            "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        ),
        fault => write_body(&mut out, &body, range_start, fault),
    }
}

fn write_status(out: &mut TcpStream, code: u16) -> std::io::Result<()> {
    let text = format!("status {code}\n");
    write!(
        out,
        "HTTP/1.1 {code} Scripted\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    )
}

fn write_body(
    out: &mut TcpStream,
    body: &[u8],
    range_start: Option<u64>,
    fault: Option<Fault>,
) -> std::io::Result<()> {
    let total = match fault {
        Some(Fault::ClaimSize(size)) => size,
        _ => body.len() as u64,
    };
    let start = range_start.unwrap_or(0);
    if start >= total {
        return write!(
            out,
            "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{total}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
    }
    let head = match range_start {
        Some(start) => format!(
            "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {start}-{}/{total}\r\n",
            total - 1
        ),
        None => "HTTP/1.1 200 OK\r\n".to_owned(),
    };
    write!(
        out,
        "{head}Content-Length: {}\r\nAccept-Ranges: bytes\r\nConnection: close\r\n\r\n",
        total - start
    )?;
    let data = body.get(start as usize..).unwrap_or(&[]);
    match fault {
        Some(Fault::DropAfter(n)) => out.write_all(&data[..n.min(data.len())]),
        Some(Fault::Slow { chunk, delay }) => {
            for piece in data.chunks(chunk) {
                out.write_all(piece)?;
                out.flush()?;
                thread::sleep(delay);
            }
            Ok(())
        }
        _ => out.write_all(data),
    }
}
