/**
 * What Agora accepts in a channel name (and a user account): "a to z, A to Z, 0 to 9, the space, and
 * ! # $ % & ( ) + - : ; < = . > ? @ [ ] ^ _ { } | ~ ," — Agora's RTC API reference, joinChannel /
 * joinChannelWithUserAccount, parameter `channelName` (89 characters in all). A channel name is at
 * most 64 of them (API.md: 1..64).
 */
export const AGORA_NAME = /^[a-zA-Z0-9 !#$%&()+\-:;<=.>?@[\]^_{|}~,]+$/;

/** The same rule for the OpenAPI document (ECMA-262 syntax, as OpenAPI patterns are). */
export const AGORA_NAME_PATTERN = AGORA_NAME.source;

/** How a refusal names the rule. */
export const AGORA_NAME_RULE = "Agora's channel characters: a-z A-Z 0-9, space and !#$%&()+-:;<=.>?@[]^_{|}~,";

export const AGORA_CHANNEL_MAX_LENGTH = 64;
