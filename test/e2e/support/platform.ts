// The whole platform as real processes for end-to-end tests: the one recipe in libs/testing.
export {
  buildPlatform,
  PLATFORM_TOKEN as TOKEN,
  startPlatform,
  type Platform,
  type PlatformOptions,
} from '@slipway/testing';
