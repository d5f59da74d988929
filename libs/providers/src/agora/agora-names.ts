/**
 * What Agora accepts as a channel name (and a user account): "a to z, A to Z, 0 to 9, the space, and
 * ! # $ % & ( ) + - : ; < = . > ? @ [ ] ^ _ { } | ~ ," — Agora RTC API reference, joinChannel /
 * joinChannelWithUserAccount, `channelName` (89 characters in all). A channel name is at most 64 of them.
 */
const AGORA_NAME = /^[a-zA-Z0-9 !#$%&()+\-:;<=.>?@[\]^_{|}~,]+$/;

export const AGORA_CHANNEL_MAX_LENGTH = 64;
/** Agora's limit on a user account, in bytes (these are one byte each). */
export const AGORA_ACCOUNT_MAX_LENGTH = 255;

/** An App ID or App Certificate as the Agora console shows it. */
export const AGORA_HEX_ID = /^[0-9a-fA-F]{32}$/;

/** Why the channel name is refused, or null when Agora accepts it. */
export function agoraChannelProblem(channel: string): string | null {
  if (channel.length < 1 || channel.length > AGORA_CHANNEL_MAX_LENGTH) return `must be 1 to ${AGORA_CHANNEL_MAX_LENGTH} characters`;
  if (!AGORA_NAME.test(channel)) return "must use only Agora's channel characters: a-z A-Z 0-9, space and !#$%&()+-:;<=.>?@[]^_{|}~,";
  return null;
}

/** A user account (the user id) must fit Agora's rules too, or the token names someone who cannot join. */
export function isAgoraAccount(account: string): boolean {
  return account.length >= 1 && account.length <= AGORA_ACCOUNT_MAX_LENGTH && AGORA_NAME.test(account);
}
