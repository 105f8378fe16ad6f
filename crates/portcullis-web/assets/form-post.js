// The form post response mode (OAuth 2.0 Form Post Response Mode §2): send the form at once.
document.forms[0].submit();
