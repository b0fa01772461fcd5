#include "auth/initial_password.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "auth/password_hash.h"

namespace mgw::auth {
namespace {
namespace fs = std::filesystem;

const std::string& adminHash() {
  static const std::string hash = hashPassword("admin");
  return hash;
}

class InitialPasswordTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "mgw-initial-password-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    home_ = tmpl;
    config_.runtimeHome = home_;
    config_.listener.host = "0.0.0.0";
    config::UserConfig admin;
    admin.name = "admin";
    admin.password = adminHash();
    admin.roles = {"admin"};
    config_.users.push_back(admin);
  }
  void TearDown() override { fs::remove_all(home_); }

  std::string passwordFile() const { return initialAdminPasswordPath(config_); }
  std::string fileContent() const {
    std::ifstream in(passwordFile());
    std::string line;
    std::getline(in, line);
    return line;
  }
  const std::string& adminPassword() const { return config_.users[0].password; }

  std::string home_;
  config::Config config_;
};

TEST(InitialPassword, LoopbackHosts) {
  EXPECT_TRUE(isLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(isLoopbackHost("127.1.2.3"));
  EXPECT_TRUE(isLoopbackHost("::1"));
  EXPECT_TRUE(isLoopbackHost("localhost"));
  EXPECT_FALSE(isLoopbackHost("0.0.0.0"));
  EXPECT_FALSE(isLoopbackHost("::"));
  EXPECT_FALSE(isLoopbackHost("10.0.0.1"));
  EXPECT_FALSE(isLoopbackHost("localhost.example.com"));
}

TEST_F(InitialPasswordTest, PathIsUnderTheRuntimeHome) {
  EXPECT_EQ(passwordFile(), home_ + "/runtime/security/initial-admin-password");
}

TEST_F(InitialPasswordTest, LoopbackKeepsTheWellKnownPassword) {
  config_.listener.host = "127.0.0.1";
  std::string error;
  ASSERT_TRUE(applyAdminPassword(config_, {}, &error)) << error;
  EXPECT_EQ(adminPassword(), adminHash());
  EXPECT_FALSE(fs::exists(passwordFile()));
}

TEST_F(InitialPasswordTest, NonLoopbackGeneratesAPrivateFileAndReusesIt) {
  std::string error;
  ASSERT_TRUE(applyAdminPassword(config_, {}, &error)) << error;
  ASSERT_TRUE(fs::exists(passwordFile()));
  struct stat st {};
  ASSERT_EQ(::stat(passwordFile().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::string generated = fileContent();
  EXPECT_EQ(generated.size(), 32u);
  EXPECT_TRUE(adminPassword().rfind("$argon2id$", 0) == 0);
  EXPECT_TRUE(verifyPassword(adminPassword(), generated));
  EXPECT_FALSE(verifyPassword(adminPassword(), "admin"));

  // The next start (or a reload) reads the same password back.
  config_.users[0].password = adminHash();
  ASSERT_TRUE(applyAdminPassword(config_, {}, &error)) << error;
  EXPECT_EQ(fileContent(), generated);
  EXPECT_TRUE(verifyPassword(adminPassword(), generated));
}

TEST_F(InitialPasswordTest, TwoHomesGetDifferentPasswords) {
  std::string error;
  ASSERT_TRUE(applyAdminPassword(config_, {}, &error)) << error;
  const std::string first = fileContent();
  fs::remove(passwordFile());
  config_.users[0].password = adminHash();
  ASSERT_TRUE(applyAdminPassword(config_, {}, &error)) << error;
  EXPECT_NE(fileContent(), first);
}

TEST_F(InitialPasswordTest, AnOwnPasswordIsKept) {
  const std::string own = hashPassword("correct horse");
  config_.users[0].password = own;
  std::string error;
  ASSERT_TRUE(applyAdminPassword(config_, {}, &error)) << error;
  EXPECT_EQ(adminPassword(), own);
  EXPECT_FALSE(fs::exists(passwordFile()));
}

TEST_F(InitialPasswordTest, EnvironmentPasswordWinsAndWritesNothing) {
  for (const char* host : {"0.0.0.0", "127.0.0.1"}) {
    config_.listener.host = host;
    config_.users[0].password = adminHash();
    AdminPasswordOptions options;
    options.environmentPassword = "from-the-environment";
    std::string error;
    ASSERT_TRUE(applyAdminPassword(config_, options, &error)) << error;
    EXPECT_TRUE(verifyPassword(adminPassword(), "from-the-environment")) << host;
    EXPECT_FALSE(verifyPassword(adminPassword(), "admin")) << host;
    EXPECT_FALSE(fs::exists(passwordFile())) << host;
  }
}

TEST_F(InitialPasswordTest, EnvironmentPasswordWithoutAdminUserIsAnError) {
  config_.users[0].name = "alice";
  AdminPasswordOptions options;
  options.environmentPassword = "secret-value";
  std::string error;
  EXPECT_FALSE(applyAdminPassword(config_, options, &error));
  EXPECT_NE(error.find("MGW_ADMIN_PASSWORD"), std::string::npos) << error;
  EXPECT_EQ(error.find("secret-value"), std::string::npos) << error;
}

TEST_F(InitialPasswordTest, ValidateWritesNothing) {
  AdminPasswordOptions options;
  options.createFile = false;
  std::string error;
  ASSERT_TRUE(applyAdminPassword(config_, options, &error)) << error;
  EXPECT_FALSE(fs::exists(passwordFile()));
  EXPECT_FALSE(fs::exists(home_ + "/runtime"));
  // What the start will run with: not the well-known password.
  EXPECT_FALSE(verifyPassword(adminPassword(), "admin"));
}

TEST_F(InitialPasswordTest, UnwritableRuntimeIsAnErrorNamingTheWayOut) {
  // runtime/ is a file: the folder cannot be created (this holds for root too).
  std::ofstream(home_ + "/runtime") << "not a folder\n";
  std::string error;
  EXPECT_FALSE(applyAdminPassword(config_, {}, &error));
  EXPECT_NE(error.find("initial-admin-password"), std::string::npos) << error;
  EXPECT_NE(error.find("MGW_ADMIN_PASSWORD"), std::string::npos) << error;
}

TEST_F(InitialPasswordTest, EmptyPasswordFileIsAnError) {
  fs::create_directories(home_ + "/runtime/security");
  std::ofstream(passwordFile()) << "\n";
  std::string error;
  EXPECT_FALSE(applyAdminPassword(config_, {}, &error));
  EXPECT_NE(error.find("empty"), std::string::npos) << error;
}

}  // namespace
}  // namespace mgw::auth
