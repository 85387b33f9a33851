//! Whether a URL points at this machine: where plain `http://` may go (emulators, tests).

/// True for a URL to this machine: a loopback address (`127.0.0.0/8`, `[::1]`), or
/// `localhost`.
pub(crate) fn is_loopback(url: &reqwest::Url) -> bool {
    url.host_str().is_some_and(|host| {
        host.eq_ignore_ascii_case("localhost")
            || host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    })
}
