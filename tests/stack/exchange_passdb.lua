-- Dovecot passdb for the test stack's OAuth logins: the identity stand-in decides, as Exchange
-- Online does, whether a token opens this mailbox over this service (identity_exchange.py).
--
-- Dovecot 2.3's XOAUTH2 and OAUTHBEARER mechanisms hand the bearer token to the passdb as the
-- password, so this passdb (limited to those mechanisms) sees the mailbox asked for (user=),
-- the service and the token. Dovecot's own oauth2 passdb cannot decide delegation: its checks
-- never see the user; its checkpassword driver refuses anything over 512 bytes, and a token is
-- about 1,700. The question goes to the stack's Exchange service (exchange_service.py) on
-- 127.0.0.1; mail.py puts `EXCHANGE_PORT = <port>` in front of this file.

local socket = require("socket")

local TIMEOUT = 10

local function ask(service, user, token)
  -- One name=value per line: a value with a line break could smuggle in another field.
  for _, value in ipairs({ service, user, token }) do
    if value:find("[\r\n]") then
      return nil, "a line break in the login"
    end
  end
  local connection = socket.tcp()
  connection:settimeout(TIMEOUT)
  local ok, err = connection:connect("127.0.0.1", EXCHANGE_PORT)
  if not ok then
    return nil, "Exchange service unreachable: " .. tostring(err)
  end
  local request = "request=exchange_login\nservice=" .. service .. "\nuser=" .. user .. "\ntoken=" .. token .. "\n\n"
  ok, err = connection:send(request)
  local action = nil
  while ok do
    local line
    line, err = connection:receive("*l")
    if line == nil or line == "" then
      break
    end
    action = line:match("^action=(.*)$") or action
  end
  connection:close()
  if action == nil then
    return nil, "no answer from the Exchange service: " .. tostring(err)
  end
  return action == "OK", nil
end

function auth_password_verify(request, token)
  local allowed, problem = ask(request.service or "", request.user or "", token or "")
  if allowed == nil then
    -- Never the token: Dovecot writes this into its log.
    return dovecot.auth.PASSDB_RESULT_INTERNAL_FAILURE, problem
  end
  if allowed then
    return dovecot.auth.PASSDB_RESULT_OK, ""
  end
  -- The reason stays with the stand-in (IdentityStandIn.exchange_decisions()).
  return dovecot.auth.PASSDB_RESULT_PASSWORD_MISMATCH, "refused by Exchange's rules"
end

function auth_passdb_lookup(request)
  -- Only token logins come here; there is no password to look up.
  return dovecot.auth.PASSDB_RESULT_USER_UNKNOWN, "token logins only"
end
