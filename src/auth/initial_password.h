// The admin password at first start (SPEC section 11): a container serves on every interface, where
// the shipped admin/admin is refused, so the admin user gets a password of its own before the user
// store is built. Trusts the configuration; the environment value and the password file are
// secrets, never logged (the log names the file, never its content).
#pragma once

#include <optional>
#include <string>

#include "config/config.h"

namespace mgw::auth {

// The user whose password MGW_ADMIN_PASSWORD sets, and the file of the generated one.
inline constexpr const char* kAdminUser = "admin";
inline constexpr const char* kAdminPasswordVariable = "MGW_ADMIN_PASSWORD";

struct AdminPasswordOptions {
  // MGW_ADMIN_PASSWORD; nullopt (or empty) = not set.
  std::optional<std::string> environmentPassword;
  // false for --validate: nothing is written; a missing password file is not an error (a throwaway
  // password stands in for the one the start will generate).
  bool createFile = true;
};

// 127.0.0.0/8, ::1 and "localhost": the listeners where the well-known password is accepted.
bool isLoopbackHost(const std::string& host);

// <runtime home>/runtime/security/initial-admin-password
std::string initialAdminPasswordPath(const config::Config& config);

// Decides the password of [b7a.users.admin], in this order:
//  1. MGW_ADMIN_PASSWORD when set (on any listener): hashed here with argon2id. An error when the
//     configuration has no admin user.
//  2. On a non-loopback listener, when admin has the well-known password "admin": the password in
//     initialAdminPasswordPath(), generated (random, 32 characters, mode 0600) at first start and
//     read again at every later start; the log says where it is.
//  3. Otherwise the configured hash, unchanged (make run on 127.0.0.1 keeps admin/admin).
// Returns false with *error set when the server must not start (the file cannot be written or
// read).
[[nodiscard]] bool applyAdminPassword(config::Config& config, const AdminPasswordOptions& options,
                                      std::string* error);

// The options from the process environment.
AdminPasswordOptions adminPasswordOptionsFromEnvironment(bool createFile);

}  // namespace mgw::auth
