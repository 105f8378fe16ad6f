// Passkeys on the hosted pages (WebAuthn Level 3). The server puts the ceremony's options in
// the form's data-options attribute; the browser's answer goes back in the form's `credential`
// field. Sign-in ("get") also starts a conditional request (passkey autofill on the username
// field, whose autocomplete is "username webauthn"); the button asks in a dialog instead. As a
// second factor ("second"), only the button asks.
(function () {
  "use strict";
  var form = document.getElementById("passkey-form");
  var button = document.getElementById("passkey-button");
  if (!form || !button || !window.PublicKeyCredential) {
    return;
  }

  function decode(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    var binary = atob(base64 + "===".slice((base64.length + 3) % 4));
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) {
      bytes[i] = binary.charCodeAt(i);
    }
    return bytes.buffer;
  }

  function encode(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) {
      binary += String.fromCharCode(bytes[i]);
    }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function decodeIds(list) {
    return (list || []).map(function (entry) {
      return Object.assign({}, entry, { id: decode(entry.id) });
    });
  }

  function publicKey() {
    var options = JSON.parse(form.dataset.options).publicKey;
    options.challenge = decode(options.challenge);
    if (options.user) {
      options.user.id = decode(options.user.id);
    }
    if (options.excludeCredentials) {
      options.excludeCredentials = decodeIds(options.excludeCredentials);
    }
    if (options.allowCredentials) {
      options.allowCredentials = decodeIds(options.allowCredentials);
    }
    return options;
  }

  function answer(credential) {
    var response = credential.response;
    var encoded = {
      id: credential.id,
      rawId: encode(credential.rawId),
      type: credential.type,
      extensions: credential.getClientExtensionResults(),
      response: { clientDataJSON: encode(response.clientDataJSON) }
    };
    if (response.attestationObject) {
      encoded.response.attestationObject = encode(response.attestationObject);
    } else {
      encoded.response.authenticatorData = encode(response.authenticatorData);
      encoded.response.signature = encode(response.signature);
      encoded.response.userHandle = response.userHandle ? encode(response.userHandle) : null;
    }
    form.elements.credential.value = JSON.stringify(encoded);
    form.submit();
  }

  function failed(error) {
    var status = document.getElementById("passkey-status");
    if (status && error && error.name !== "AbortError") {
      status.hidden = false;
    }
  }

  if (form.dataset.ceremony === "create") {
    button.addEventListener("click", function () {
      navigator.credentials.create({ publicKey: publicKey() }).then(answer, failed);
    });
  } else {
    var pending = null;
    // A second factor asks in a dialog only: there is no username field to autofill.
    if (form.dataset.ceremony === "get" && PublicKeyCredential.isConditionalMediationAvailable) {
      PublicKeyCredential.isConditionalMediationAvailable().then(function (available) {
        if (available) {
          pending = new AbortController();
          navigator.credentials
            .get({ publicKey: publicKey(), mediation: "conditional", signal: pending.signal })
            .then(answer, failed);
        }
      });
    }
    button.addEventListener("click", function () {
      if (pending) {
        pending.abort();
      }
      navigator.credentials.get({ publicKey: publicKey() }).then(answer, failed);
    });
  }
  button.hidden = false;
})();
