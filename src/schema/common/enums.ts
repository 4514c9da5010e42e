import { registerEnumType } from 'type-graphql';
import { ActivityType, DeviceType, FraudRule, Severity, UserSegment } from '../../domain/enums';

let registered = false;

/** Gives the domain's enums their GraphQL names; the schema builder calls it before building. */
export function registerEnums(): void {
  if (registered) return;
  registered = true;
  registerEnumType(ActivityType, { name: 'ActivityType' });
  registerEnumType(DeviceType, { name: 'DeviceType' });
  registerEnumType(Severity, { name: 'Severity' });
  registerEnumType(FraudRule, { name: 'FraudRule' });
  registerEnumType(UserSegment, { name: 'UserSegment' });
}
