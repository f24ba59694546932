// The shapes of Slack's ids, where bellhop must tell an id from a #name or an email.

/** A conversation id: C (public), G (private), D (a DM). */
export const CHANNEL_ID = /^[CGD][A-Z0-9]{2,}$/;
/** A user id (W on Enterprise Grid). */
export const USER_ID = /^[UW][A-Z0-9]{2,}$/;
