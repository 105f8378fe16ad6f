//! A real SMTP server in the test process (mailin-embedded, on `127.0.0.1:{random port}`): the
//! server under test sends to it over TCP with its own SMTP client, and tests read what
//! arrived, parsed as MIME by mail-parser.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mailin_embedded::{Handler, Response, Server, response};

/// One message as it arrived.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    /// The envelope's recipients (`RCPT TO`).
    pub to: Vec<String>,
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// The `Content-Language` header, if any.
    pub language: Option<String>,
}

/// The messages the sink received, shared with its connection handlers.
#[derive(Debug, Clone, Default)]
pub struct MailSink {
    received: Arc<Mutex<Vec<ReceivedMail>>>,
    /// `smtp://127.0.0.1:{port}`, for the server's `--smtp-url`.
    pub url: String,
}

#[derive(Clone)]
struct Collect {
    received: Arc<Mutex<Vec<ReceivedMail>>>,
    to: Vec<String>,
    data: Vec<u8>,
}

impl Handler for Collect {
    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.to = to.to_vec();
        self.data.clear();
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let Some(message) = mail_parser::MessageParser::default().parse(&self.data) else {
            return response::INTERNAL_ERROR;
        };
        let mail = ReceivedMail {
            to: self.to.clone(),
            subject: message.subject().unwrap_or_default().to_owned(),
            text: message.body_text(0).map(|t| t.into_owned()).unwrap_or_default(),
            language: message.header_raw("Content-Language").map(|v| v.trim().to_owned()),
        };
        if let Ok(mut received) = self.received.lock() {
            received.push(mail);
        }
        response::OK
    }
}

impl MailSink {
    /// Starts the server on a thread of its own.
    pub fn start() -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let url = format!("smtp://127.0.0.1:{}", listener.local_addr()?.port());
        let received = Arc::new(Mutex::new(Vec::new()));
        let mut server = Server::new(Collect { received: received.clone(), to: Vec::new(), data: Vec::new() });
        server.with_name("sink.test").with_num_threads(16).with_tcp_listener(listener);
        std::thread::spawn(move || {
            if let Err(error) = server.serve() {
                eprintln!("the test SMTP server stopped: {error}");
            }
        });
        Ok(Self { received, url })
    }

    /// Every message so far.
    pub fn all(&self) -> Vec<ReceivedMail> {
        self.received.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Waits (up to ten seconds) for the `n`th message (from 1) to `to`.
    pub async fn wait_for(&self, to: &str, n: usize) -> anyhow::Result<ReceivedMail> {
        for _ in 0..400 {
            let mine: Vec<ReceivedMail> = self.all().into_iter().filter(|m| m.to.iter().any(|t| t == to)).collect();
            if let Some(mail) = mine.get(n - 1) {
                return Ok(mail.clone());
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        anyhow::bail!("no message {n} to {to} arrived; the sink holds {:?}", self.all())
    }
}
