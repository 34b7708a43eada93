/**
 * Another user as User.ReadBasic.All lets the signed-in user read them: Graph's basic profile
 * (display name, given name, surname, mail, photo, user principal name, id). Job title and
 * department are not part of it, so tools reading other users on that scope do not promise them.
 */
import * as z from 'zod';
import { PersonSchema, textField } from '../shapes';

export const BASIC_PERSON_FIELDS = ['id', 'displayName', 'userPrincipalName', 'mail'];

export const BasicPersonSchema = PersonSchema.pick({ id: true, displayName: true, userPrincipalName: true, mail: true });
export type BasicPerson = z.infer<typeof BasicPersonSchema>;

export function shapeBasicPerson(person: Record<string, unknown>): BasicPerson {
  return {
    id: String(person.id ?? ''),
    displayName: textField(person, 'displayName'),
    userPrincipalName: textField(person, 'userPrincipalName'),
    mail: textField(person, 'mail'),
  };
}
