/* kp-document.h: the annotations of one image, edited through an undo stack
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#if !defined(KP_CORE_INSIDE) && !defined(KP_CORE_COMPILATION)
# error "Only <kp-core.h> can be included directly."
#endif

#include <gio/gio.h>

#include "kp-store.h"

G_BEGIN_DECLS

#define KP_TYPE_DOCUMENT (kp_document_get_type ())
G_DECLARE_FINAL_TYPE (KpDocument, kp_document, KP, DOCUMENT, GObject)

/* Loads the annotations of media_id. Every edit below is written to the store
 * in its own transaction before it returns, and pushed as a command on the
 * undo stack (a successful new edit clears the redo stack). On a store error
 * nothing changes in memory and the error is returned.
 *
 * Properties: "can-undo", "can-redo" (booleans, notified), "media-id".
 * Signal "changed" (gint64 annotation_id, or 0 for many) after every change,
 * including undo and redo. */
KpDocument         *kp_document_new                (KpStore            *store,
                                                    gint64              media_id,
                                                    GError            **error) G_GNUC_WARN_UNUSED_RESULT;
KpStore            *kp_document_get_store          (KpDocument         *self);
gint64              kp_document_get_media_id       (KpDocument         *self);
/* Annotations in drawing order; element type KpAnnotation, owned by self. */
GPtrArray          *kp_document_get_annotations    (KpDocument         *self);
const KpAnnotation *kp_document_lookup             (KpDocument         *self,
                                                    gint64              annotation_id);

/* Returns the new id, or 0 with error. */
gint64              kp_document_add                (KpDocument         *self,
                                                    gint64              label_id,
                                                    const KpRect       *rect,
                                                    GError            **error);
gboolean            kp_document_set_rect           (KpDocument         *self,
                                                    gint64              annotation_id,
                                                    const KpRect       *rect,
                                                    GError            **error);
gboolean            kp_document_set_label          (KpDocument         *self,
                                                    gint64              annotation_id,
                                                    gint64              label_id,
                                                    GError            **error);
gboolean            kp_document_remove             (KpDocument         *self,
                                                    gint64              annotation_id,
                                                    GError            **error);

gboolean            kp_document_get_can_undo       (KpDocument         *self);
gboolean            kp_document_get_can_redo       (KpDocument         *self);
gboolean            kp_document_undo               (KpDocument         *self,
                                                    GError            **error);
gboolean            kp_document_redo               (KpDocument         *self,
                                                    GError            **error);

/* Drops in-memory annotations of a label that was deleted from the store
 * (and the undo/redo commands that refer to it), emitting "changed". */
void                kp_document_forget_label       (KpDocument         *self,
                                                    gint64              label_id);

G_END_DECLS
