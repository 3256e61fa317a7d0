//! `HOST:PORT` on the command line.

/// `HOST:PORT`, the host not empty and the port a number from 1 to 65535.
pub fn parse_server(text: &str) -> Result<(String, u16), String> {
    text.rsplit_once(':')
        .filter(|(host, _)| !host.is_empty())
        .and_then(|(host, port)| Some((host.to_owned(), port.parse().ok().filter(|&p| p > 0)?)))
        .ok_or_else(|| format!("{text:?} is not HOST:PORT (such as db-2.internal:5432)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_need_a_host_and_a_numeric_port() {
        assert_eq!(
            parse_server("10.0.0.2:5432"),
            Ok(("10.0.0.2".to_owned(), 5432))
        );
        assert!(parse_server("10.0.0.2").is_err());
        assert!(parse_server(":5432").is_err());
        assert!(parse_server("host:port").is_err());
        assert!(parse_server("host:0").is_err());
        assert!(parse_server("host:70000").is_err());
    }
}
