import type { Type as Class } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

/**
 * A list's filters with the page fields added: how many items (limit) and where the previous page ended
 * (cursor). A mixin rather than a base class so the page fields come after the filters, in the DTO and in
 * the OpenAPI parameters, as they always stood.
 */
export function PageQuery<F extends Class<object>>(Filters: F) {
  class PageQueryDto extends Filters {
    @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 100 })
    @IsOptional()
    @Type(() => Number)
    @IsInt()
    @Min(1)
    @Max(500)
    limit?: number;

    @ApiPropertyOptional({ maxLength: 512, description: 'nextCursor of the previous page' })
    @IsOptional()
    @IsString()
    @MaxLength(512)
    cursor?: string;
  }
  return PageQueryDto;
}
