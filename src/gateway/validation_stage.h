// Schema validation as a pipeline stage (issue 27; WSO2 MGW 3.x's validation filters): for an API
// with request validation on, the request's path, query, header and cookie parameters are checked
// here against the operation's compiled schemas (400, code 400 "Bad Request"), and the plan gets
// the body checks the relay runs (the request body read whole up to [validationConfig]
// maxBodyBytes; the answer's status, content type and JSON body with response validation on).
#pragma once

#include "gateway/exchange.h"
#include "gateway/stages.h"

namespace mgw::gateway {

StageResult validationStage(Exchange& ex);

}  // namespace mgw::gateway
