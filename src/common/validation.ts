/**
 * Field validators that say exactly what to change, for any DTO. class-validator's own decorators
 * are used where their message can be set; these cover the cases where it cannot say it well.
 */
import { registerDecorator, type ValidationArguments } from 'class-validator';

/**
 * A whole number of at least `minimum`, with one message. A number sent as a string ("1") is the
 * usual mistake, so its message says so.
 */
export function WholeNumber(minimum: number): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    const field = String(propertyName);
    registerDecorator({
      name: 'wholeNumber',
      target: target.constructor,
      propertyName: field,
      options: {
        message: ({ value }: ValidationArguments) =>
          typeof value === 'string'
            ? `${field} must be a whole number (a JSON number, not a string)`
            : Number.isInteger(value)
              ? `${field} must be at least ${minimum}`
              : `${field} must be a whole number`,
      },
      validator: { validate: (value: unknown) => Number.isInteger(value) && (value as number) >= minimum },
    });
  };
}

/** A JSON boolean when present. (IsOptional would also let null through, which means nothing here.) */
export function OptionalBoolean(): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    const field = String(propertyName);
    registerDecorator({
      name: 'optionalBoolean',
      target: target.constructor,
      propertyName: field,
      options: { message: `${field} must be true or false (a JSON boolean), or left out` },
      validator: { validate: (value: unknown) => value === undefined || typeof value === 'boolean' },
    });
  };
}
