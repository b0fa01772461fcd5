#include "http/upstream_client.h"

#include <boost/asio/ip/tcp.hpp>
#include <utility>

#include "common/log.h"
#include "http/tls.h"
#include "message/hop_by_hop.h"

namespace mgw::http {
namespace {

using asio::ip::tcp;

}  // namespace

asio::awaitable<std::unique_ptr<Connection>> connectUpstream(
    asio::io_context& io, asio::ssl::context& clientTls, const mgw::UpstreamTarget& target,
    int timeoutSeconds, std::string* reason, Failure* failure) {
  *failure = Failure::kBackendUnreachable;
  auto conn = std::make_unique<Connection>();
  beast::tcp_stream stream(io);
  stream.expires_after(std::chrono::seconds(timeoutSeconds));
  error_code ec;
  auto address = asio::ip::make_address(target.host, ec);
  if (!ec) {
    auto [cec] = co_await stream.async_connect(
        tcp::endpoint(address, static_cast<unsigned short>(target.port)), kAwait);
    ec = cec;
  } else {
    tcp::resolver resolver(io);
    auto [rec, results] =
        co_await resolver.async_resolve(target.host, std::to_string(target.port), kAwait);
    if (rec) {
      *reason = "cannot resolve " + target.host + ": " + rec.message();
      co_return nullptr;
    }
    auto [cec, endpoint] = co_await stream.async_connect(results, kAwait);
    ec = cec;
  }
  if (ec) {
    *reason = ec == beast::error::timeout
                  ? "connect timed out after " + std::to_string(timeoutSeconds) + " s"
                  : "connect failed: " + ec.message();
    if (ec == asio::error::connection_refused) *failure = Failure::kBackendRefused;
    co_return nullptr;
  }
  stream.socket().set_option(tcp::no_delay(true), ec);
  if (!target.tls) {
    conn->plain = std::make_unique<beast::tcp_stream>(std::move(stream));
    co_return conn;
  }
  conn->tls = std::make_unique<asio::ssl::stream<beast::tcp_stream>>(std::move(stream), clientTls);
  if (!prepareClientSsl(conn->tls->native_handle(), target)) {
    *reason = "cannot set up TLS verification for " + target.host;
    co_return nullptr;
  }
  // h2:// (RFC 9113 section 3.2): HTTP/2 is agreed in the handshake, ALPN "h2" and nothing else.
  static constexpr unsigned char kAlpnH2[] = {2, 'h', '2'};
  if (target.http2 &&
      SSL_set_alpn_protos(conn->tls->native_handle(), kAlpnH2, sizeof kAlpnH2) != 0) {
    *reason = "cannot offer ALPN h2 to " + target.host;
    co_return nullptr;
  }
  auto [hec] = co_await conn->tls->async_handshake(asio::ssl::stream_base::client, kAwait);
  if (hec) {
    *failure = Failure::kBackendTlsFailed;
    *reason = "TLS handshake failed: " +
              handshakeFailure(conn->tls->native_handle(),
                               hec == beast::error::timeout ? "timed out" : hec.message());
    // The backend's certificate was refused: an operator's error (a truststore or certificate to
    // fix), logged at error level with the certificate it names.
    const RefusedCertificate refused = refusedCertificate(conn->tls->native_handle());
    if (!refused.reason.empty())
      log::error("backend certificate refused", {{"backend", target.origin},
                                                 {"subject", refused.subject},
                                                 {"issuer", refused.issuer},
                                                 {"reason", refused.reason}});
    co_return nullptr;
  }
  if (target.http2) {
    const unsigned char* selected = nullptr;
    unsigned int length = 0;
    SSL_get0_alpn_selected(conn->tls->native_handle(), &selected, &length);
    if (length != 2 || selected[0] != 'h' || selected[1] != '2') {
      *failure = Failure::kBackendTlsFailed;
      *reason = "the backend did not select HTTP/2 in the TLS handshake (ALPN h2)";
      co_return nullptr;
    }
  }
  co_return conn;
}

bool forwardedToBackend(std::string_view n, const std::vector<std::string>& connectionOptions,
                        const message::ForwardPlan& plan) {
  return !(message::isHopByHopHeader(n) || listed(connectionOptions, n) ||
           equalsIgnoreCase(n, "Host") || equalsIgnoreCase(n, "X-Forwarded-For") ||
           equalsIgnoreCase(n, "X-Forwarded-Proto") || equalsIgnoreCase(n, "X-Forwarded-Host") ||
           equalsIgnoreCase(n, "Expect") || listed(plan.dropHeaders, n) ||
           hasField(plan.setHeaders, n));
}

bool bodyMayBeIgnored(const RequestHead& head) {
  const bool body = head.framing == Framing::kChunked ||
                    (head.framing == Framing::kLength && head.contentLength > 0);
  return body && head.method != "POST" && head.method != "PUT" && head.method != "PATCH";
}

std::string upstreamHead(const RequestHead& head, const mgw::UpstreamTarget& target,
                         const message::ForwardPlan& plan, bool lastOnConnection) {
  std::string out;
  out.reserve(512);
  out += head.method;
  out += ' ';
  out += message::upstreamRequestTarget(target, plan);
  out.append(" HTTP/1.1\r\n", 11);
  const auto options = connectionOptions(head.fields);
  for (const auto& [name, value] : head.fields) {
    if (!forwardedToBackend(name, options, plan)) continue;
    appendFieldLine(out, name, value);
  }
  for (const auto& [name, value] : plan.setHeaders) appendFieldLine(out, name, value);
  appendFieldLine(out, "Host", target.hostHeader);
  if (!plan.forwardedFor.empty()) appendFieldLine(out, "X-Forwarded-For", plan.forwardedFor);
  appendFieldLine(out, "X-Forwarded-Proto", plan.tls ? "https" : "http");
  if (!plan.forwardedHost.empty()) appendFieldLine(out, "X-Forwarded-Host", plan.forwardedHost);
  if (head.framing == Framing::kLength)
    appendFieldLine(out, "Content-Length", std::to_string(head.contentLength));
  else if (head.framing == Framing::kChunked)
    appendFieldLine(out, "Transfer-Encoding", "chunked");
  if (lastOnConnection) appendFieldLine(out, "Connection", "close");
  out.append("\r\n", 2);
  return out;
}

}  // namespace mgw::http
