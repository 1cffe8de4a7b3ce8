//! pulse-nsm: the Pulse enclave app's way to the Nitro Security Module (DESIGN §9).
//!
//! Node cannot issue the /dev/nsm ioctl, so enclave-bridge's NitroNsm runs this binary once per
//! request, without a shell:
//!
//!   pulse-nsm attest [--public-key HEX] [--nonce HEX] [--user-data HEX]
//!       writes the attestation document (COSE_Sign1 bytes) to stdout
//!   pulse-nsm describe-pcrs
//!       writes {"0":"hex","1":"hex","2":"hex"} to stdout
//!
//! Exit status: 0 success, 1 unexpected failure, 2 bad arguments, 3 /dev/nsm cannot be opened,
//! 4 the NSM refused the request. Messages on stderr never repeat the arguments.

use std::fmt;
use std::io::Write;
use std::process::ExitCode;

use aws_nitro_enclaves_nsm_api::api::{ErrorCode, Request, Response};
use aws_nitro_enclaves_nsm_api::driver;
use serde_bytes::ByteBuf;

const USAGE: &str = "usage: pulse-nsm attest [--public-key HEX] [--nonce HEX] [--user-data HEX] | pulse-nsm describe-pcrs";

/// The options of `attest` and their limits from the attestation document specification.
const ATTEST_OPTIONS: [(&str, usize); 3] = [
    ("--public-key", 1024),
    ("--nonce", 512),
    ("--user-data", 512),
];

/// PCR0 (image), PCR1 (kernel and boot ramfs), PCR2 (application): the ones the Worker pins.
const MEASURED_PCRS: [u16; 3] = [0, 1, 2];

#[derive(Debug)]
enum Failure {
    Usage(&'static str),
    NoDevice,
    Refused(ErrorCode),
    UnexpectedResponse,
    Output(std::io::Error),
}

impl Failure {
    fn exit_status(&self) -> u8 {
        match self {
            Failure::UnexpectedResponse | Failure::Output(_) => 1,
            Failure::Usage(_) => 2,
            Failure::NoDevice => 3,
            Failure::Refused(_) => 4,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Usage(problem) => write!(f, "{problem}\n{USAGE}"),
            Failure::NoDevice => {
                write!(f, "cannot open /dev/nsm (not running in a Nitro Enclave?)")
            }
            Failure::Refused(code) => write!(f, "the NSM refused the request: {code:?}"),
            Failure::UnexpectedResponse => {
                write!(f, "the NSM answered with an unexpected response")
            }
            Failure::Output(error) => write!(f, "cannot write to stdout: {error}"),
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("pulse-nsm: {failure}");
            ExitCode::from(failure.exit_status())
        }
    }
}

fn run(args: &[String]) -> Result<(), Failure> {
    match args.split_first() {
        Some((command, options)) if command == "attest" => {
            let request = attestation_request(options)?;
            let document = with_nsm(|fd| match driver::nsm_process_request(fd, request) {
                Response::Attestation { document } => Ok(document),
                other => Err(refusal(other)),
            })?;
            write_stdout(&document)
        }
        Some((command, options)) if command == "describe-pcrs" && options.is_empty() => {
            let values = with_nsm(|fd| {
                MEASURED_PCRS
                    .iter()
                    .map(|&index| {
                        match driver::nsm_process_request(fd, Request::DescribePCR { index }) {
                            Response::DescribePCR { data, .. } => {
                                Ok(format!("\"{index}\":\"{}\"", to_hex(&data)))
                            }
                            other => Err(refusal(other)),
                        }
                    })
                    .collect::<Result<Vec<String>, Failure>>()
            })?;
            write_stdout(format!("{{{}}}\n", values.join(",")).as_bytes())
        }
        _ => Err(Failure::Usage("unknown command")),
    }
}

fn attestation_request(options: &[String]) -> Result<Request, Failure> {
    let mut values: [Option<ByteBuf>; 3] = [None, None, None];
    for pair in options.chunks(2) {
        let (flag, value) = match pair {
            [flag, value] => (flag, value),
            _ => return Err(Failure::Usage("option without a value")),
        };
        let slot = ATTEST_OPTIONS
            .iter()
            .position(|(name, _)| name == flag)
            .ok_or(Failure::Usage("unknown option"))?;
        if values[slot].is_some() {
            return Err(Failure::Usage("repeated option"));
        }
        let bytes = from_hex(value).ok_or(Failure::Usage("option value is not hex"))?;
        if bytes.len() > ATTEST_OPTIONS[slot].1 {
            return Err(Failure::Usage("option value is too large"));
        }
        values[slot] = Some(ByteBuf::from(bytes));
    }
    let [public_key, nonce, user_data] = values;
    Ok(Request::Attestation {
        user_data,
        nonce,
        public_key,
    })
}

/// Opens /dev/nsm for one piece of work and always closes it again.
fn with_nsm<T>(work: impl FnOnce(i32) -> Result<T, Failure>) -> Result<T, Failure> {
    let fd = driver::nsm_init();
    if fd < 0 {
        return Err(Failure::NoDevice);
    }
    let result = work(fd);
    driver::nsm_exit(fd);
    result
}

fn refusal(response: Response) -> Failure {
    match response {
        Response::Error(code) => Failure::Refused(code),
        _ => Failure::UnexpectedResponse,
    }
}

fn write_stdout(bytes: &[u8]) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(bytes)
        .and_then(|()| stdout.flush())
        .map_err(Failure::Output)
}

fn from_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 || !text.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&text[at..at + 2], 16).ok())
        .collect()
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|arg| arg.to_string()).collect()
    }

    #[test]
    fn hex_round_trips_and_rejects_non_hex() {
        assert_eq!(from_hex("00ff7A"), Some(vec![0x00, 0xff, 0x7a]));
        assert_eq!(from_hex(""), Some(vec![]));
        assert_eq!(from_hex("abc"), None);
        assert_eq!(from_hex("+f"), None);
        assert_eq!(to_hex(&[0x00, 0xff, 0x7a]), "00ff7a");
    }

    #[test]
    fn attest_options_map_to_the_request_fields() {
        let request =
            attestation_request(&args(&["--nonce", "01", "--public-key", "0203"])).unwrap();
        match request {
            Request::Attestation {
                user_data,
                nonce,
                public_key,
            } => {
                assert_eq!(user_data, None);
                assert_eq!(nonce, Some(ByteBuf::from(vec![1])));
                assert_eq!(public_key, Some(ByteBuf::from(vec![2, 3])));
            }
            _ => panic!("not an attestation request"),
        }
    }

    #[test]
    fn attest_refuses_bad_options() {
        let cases: [&[&str]; 4] = [
            &["--nonce"],
            &["--nonce", "zz"],
            &["--size", "00"],
            &["--nonce", "00", "--nonce", "01"],
        ];
        for bad in cases {
            assert!(matches!(
                attestation_request(&args(bad)),
                Err(Failure::Usage(_))
            ));
        }
        let oversize = "00".repeat(513);
        assert!(matches!(
            attestation_request(&args(&["--nonce", &oversize])),
            Err(Failure::Usage(_))
        ));
    }
}
