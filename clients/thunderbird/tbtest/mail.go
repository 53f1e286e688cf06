package tbtest

import (
	"context"
	"time"
)

// deliverJS adds a message to a Local Folders folder (made if missing)
// with nsIMsgLocalMailFolder.addMessage, as incoming mail is filed.
const deliverJS = `
const { MailServices } = ChromeUtils.importESModule("resource:///modules/MailServices.sys.mjs");
const [folderName, raw] = arguments;
let server = null;
try { server = MailServices.accounts.localFoldersServer; } catch (e) {}
if (!server) {
  MailServices.accounts.createLocalMailAccount();
  server = MailServices.accounts.localFoldersServer;
}
let folder = server.rootFolder.getChildNamed(folderName);
if (!folder) {
  folder = server.rootFolder.QueryInterface(Ci.nsIMsgLocalMailFolder).createLocalSubfolder(folderName);
}
const hdr = folder.QueryInterface(Ci.nsIMsgLocalMailFolder).addMessage(raw);
return folder.getUriForMsg(hdr);
`

// displayJS shows a message in the first tab's message pane (as a click
// in the message list does) and waits until the pane shows its text and,
// for a signed message, the S/MIME signature status.
const displayJS = `
const { MailServices } = ChromeUtils.importESModule("resource:///modules/MailServices.sys.mjs");
const { MailUtils } = ChromeUtils.importESModule("resource:///modules/MailUtils.sys.mjs");
const [uri, waitMs] = arguments;
const hdr = MailServices.messageServiceFromURI(uri).messageURIToMsgHdr(uri);
MailUtils.displayMessageInFolderTab(hdr);
const win = Services.wm.getMostRecentWindow("mail:3pane");
const deadline = Date.now() + waitMs;
let shown = { body: "", signed: "", status: -1 };
while (Date.now() < deadline) {
  await new Promise(r => setTimeout(r, 200));
  const about = win.gTabmail.currentAbout3Pane?.messageBrowser?.contentWindow;
  const doc = about?.document;
  const pane = doc?.getElementById("messagepane")?.contentDocument;
  const icon = doc?.getElementById("signedHdrIcon");
  shown = {
    body: pane?.body?.textContent ?? "",
    signed: icon && !icon.hidden ? (icon.getAttribute("src") ?? "").replace(/^.*\//, "") : "",
    status: about?.gSignatureStatus ?? -1,
  };
  if (about?.gMessageURI == uri && shown.body && shown.status != -1) {
    break;
  }
}
return shown;
`

// Displayed is what the message pane shows of a message.
type Displayed struct {
	Body string `json:"body"` // the text of the message pane
	// Signed is the file name of the signature status icon
	// ("message-signed-ok.svg", …); "" when none is shown (Thunderbird
	// shows none for a bad signature on a message that is not encrypted).
	Signed string `json:"signed"`
	// SignatureStatus is the S/MIME header sink's verdict
	// (nsICMSMessageErrors: 0 = good signature; -1 = no verdict, e.g. not
	// signed, or none within the wait).
	SignatureStatus int `json:"status"`
}

// DeliverLocal files raw (an RFC 5322 message, CRLF or LF) into the Local
// Folders folder named folder, making the account and the folder when
// missing, and returns the message's URI.
func (in *Instance) DeliverLocal(ctx context.Context, folder string, raw []byte) (string, error) {
	var uri string
	err := in.EvalInto(ctx, &uri, deliverJS, folder, "From - Fri Nov 27 09:00:00 2026\r\n"+string(raw))
	return uri, err
}

// DisplayMessage shows the message uri in the main window's message pane,
// as the user's click on it in the message list does, and waits (at most
// wait) until its text and the S/MIME signature verdict are there (an
// unsigned message takes the whole wait). Displaying a signed message is when Thunderbird verifies the
// signature and NSS keeps the signer's certificate.
func (in *Instance) DisplayMessage(ctx context.Context, uri string, wait time.Duration) (Displayed, error) {
	var d Displayed
	err := in.EvalInto(ctx, &d, displayJS, uri, wait.Milliseconds())
	return d, err
}
