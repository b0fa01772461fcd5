#include "token/algorithm.h"

#include <gtest/gtest.h>

namespace mgw::token {
namespace {

TEST(Algorithm, ParsesExactNames) {
  EXPECT_EQ(parseAlgorithm("RS256"), Algorithm::kRS256);
  EXPECT_EQ(parseAlgorithm("ES256"), Algorithm::kES256);
  EXPECT_EQ(parseAlgorithm("EdDSA"), Algorithm::kEdDSA);
}

TEST(Algorithm, RefusesNoneHmacAndNearMisses) {
  for (const char* name : {"none", "None", "NONE", "HS256", "HS384", "HS512", "rs256", "RS256 ",
                           " RS256", "RS384", "PS256", "ES384", "ES256K", "eddsa", "Ed25519", ""}) {
    EXPECT_FALSE(parseAlgorithm(name)) << name;
  }
}

TEST(Algorithm, NamesRoundTrip) {
  for (Algorithm alg : {Algorithm::kRS256, Algorithm::kES256, Algorithm::kEdDSA}) {
    EXPECT_EQ(parseAlgorithm(algorithmName(alg)), alg);
  }
}

}  // namespace
}  // namespace mgw::token
