// TLS for both directions (SPEC section 10): the server profile (TLS 1.2 and 1.3, ECDHE with
// AEAD only, ALPN h2 then http/1.1) and the upstream client (the system CAs plus the truststore;
// SNI; OpenSSL's host-name or IP verification, never the subject CN).
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>
#include <string>
#include <string_view>

#include "common/endpoint_url.h"

namespace mgw::http {

// False with *error set when the key and certificate do not make a context. `http2`: ALPN
// selects h2 when the client offers it.
bool configureServerContext(boost::asio::ssl::context& ctx, EVP_PKEY* key, X509* certificate,
                            bool http2, std::string* error);

// The protocol ALPN selects from the client's list (RFC 7301: length-prefixed names): "h2" when
// `http2` and offered, else "http/1.1" when offered, else "" (no ALPN: HTTP/1.1). A view into
// `offered`.
std::string_view chooseAlpn(std::string_view offered, bool http2);

// The system CA bundle plus every PEM certificate of `trustStorePath` (a folder or a bundle
// file). An absent or empty truststore is not an error; *note says what was loaded.
void configureClientContext(boost::asio::ssl::context& ctx, const std::string& trustStorePath,
                            std::string* note);

// Per connection: SNI for a host name, and the name or IP address the certificate must match.
// False when OpenSSL refuses the parameters.
bool prepareClientSsl(SSL* ssl, const mgw::UpstreamTarget& target);

// Why a handshake failed, as a user can act on it ("certificate verify failed: Hostname
// mismatch").
std::string handshakeFailure(SSL* ssl, const std::string& fallback);

}  // namespace mgw::http
