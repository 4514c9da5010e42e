import { registerEnumType } from 'type-graphql';

/** The kinds of user activity (CONTRACT.md). The same strings travel in Kafka values. */
export enum ActivityType {
  PAGE_VIEW = 'PAGE_VIEW',
  CLICK = 'CLICK',
  SEARCH = 'SEARCH',
  SEARCH_RESULT_CLICK = 'SEARCH_RESULT_CLICK',
  PRODUCT_VIEW = 'PRODUCT_VIEW',
  ADD_TO_CART = 'ADD_TO_CART',
  PURCHASE = 'PURCHASE',
  CONTENT_VIEW = 'CONTENT_VIEW',
  CONTENT_RATING = 'CONTENT_RATING',
  PLAYBACK_START = 'PLAYBACK_START',
  PLAYBACK_PAUSE = 'PLAYBACK_PAUSE',
  PLAYBACK_RESUME = 'PLAYBACK_RESUME',
  PLAYBACK_COMPLETE = 'PLAYBACK_COMPLETE',
  PLAYBACK_ABANDON = 'PLAYBACK_ABANDON',
  LOGIN = 'LOGIN',
  LOGOUT = 'LOGOUT',
  PROFILE_UPDATE = 'PROFILE_UPDATE',
  PREFERENCE_CHANGE = 'PREFERENCE_CHANGE',
}

export enum DeviceType {
  DESKTOP = 'DESKTOP',
  MOBILE = 'MOBILE',
  TABLET = 'TABLET',
  TV = 'TV',
  OTHER = 'OTHER',
}

export enum Severity {
  LOW = 'LOW',
  MEDIUM = 'MEDIUM',
  HIGH = 'HIGH',
  CRITICAL = 'CRITICAL',
}

export enum FraudRule {
  HIGH_VELOCITY = 'HIGH_VELOCITY',
  PURCHASE_VELOCITY = 'PURCHASE_VELOCITY',
  HIGH_VALUE_PURCHASE = 'HIGH_VALUE_PURCHASE',
  MULTIPLE_IPS = 'MULTIPLE_IPS',
  GEO_JUMP = 'GEO_JUMP',
}

export enum UserSegment {
  NEW = 'NEW',
  BROWSER = 'BROWSER',
  RESEARCHER = 'RESEARCHER',
  BUYER = 'BUYER',
}

registerEnumType(ActivityType, { name: 'ActivityType' });
registerEnumType(DeviceType, { name: 'DeviceType' });
registerEnumType(Severity, { name: 'Severity' });
registerEnumType(FraudRule, { name: 'FraudRule' });
registerEnumType(UserSegment, { name: 'UserSegment' });
