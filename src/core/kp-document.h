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

/* Since schema 2: every shape and every operation, each one undo step
 * (however many objects it touches) written with its journal entry in one
 * store transaction, so the history survives a restart or a crash. The
 * undo history of each image keeps its newest KP_DOCUMENT_HISTORY_LIMIT
 * steps. Edits of geometry, label or attributes of a suggestion set
 * KP_ANNOTATION_MODIFIED_BY_PERSON. "changed" carries the id when one
 * object changed, 0 when several did or the drawing order changed. */
#define KP_DOCUMENT_HISTORY_LIMIT 1000

/* Adds a copy of annotation (any shape; its id and media_id are ignored,
 * rect is recomputed from the geometry). New objects go on top: z is
 * raised to the highest z in the document when below it. Attributes of
 * the label with a default value and no value given get the default. */
gint64              kp_document_add_annotation     (KpDocument         *self,
                                                    const KpAnnotation *annotation,
                                                    GError            **error);
/* Adds copies of n annotations as one step; ids (may be NULL) receives
 * their new ids. For paste, duplicate and copying from another image. */
gboolean            kp_document_add_many           (KpDocument         *self,
                                                    const KpAnnotation * const *annotations,
                                                    guint               n_annotations,
                                                    gint64             *ids,
                                                    GError            **error);
/* Replaces each object (matched by id) with the given state, as one step:
 * the general reshape (vertices, rotated box, mask edits, keypoint) and
 * anything the helpers below do not cover. */
gboolean            kp_document_update_many        (KpDocument         *self,
                                                    const KpAnnotation * const *annotations,
                                                    guint               n_annotations,
                                                    GError            **error);
gboolean            kp_document_update             (KpDocument         *self,
                                                    const KpAnnotation *annotation,
                                                    GError            **error);
gboolean            kp_document_remove_many        (KpDocument         *self,
                                                    const gint64       *ids,
                                                    guint               n_ids,
                                                    GError            **error);
gboolean            kp_document_move               (KpDocument         *self,
                                                    const gint64       *ids,
                                                    guint               n_ids,
                                                    double              dx,
                                                    double              dy,
                                                    GError            **error);
gboolean            kp_document_relabel            (KpDocument         *self,
                                                    const gint64       *ids,
                                                    guint               n_ids,
                                                    gint64              label_id,
                                                    GError            **error);
/* Vertices of a polygon or polyline (LINE and POINT have fixed counts). */
gboolean            kp_document_insert_vertex      (KpDocument         *self,
                                                    gint64              annotation_id,
                                                    guint               index,
                                                    const KpPoint      *point,
                                                    GError            **error);
gboolean            kp_document_remove_vertex      (KpDocument         *self,
                                                    gint64              annotation_id,
                                                    guint               index,
                                                    GError            **error);
gboolean            kp_document_move_vertex        (KpDocument         *self,
                                                    gint64              annotation_id,
                                                    guint               index,
                                                    const KpPoint      *point,
                                                    GError            **error);
/* Brush (paint TRUE) or eraser stroke on a MASK object: a circle of radius
 * at each of the n points, one step. */
gboolean            kp_document_paint_mask         (KpDocument         *self,
                                                    gint64              annotation_id,
                                                    const KpPoint      *points,
                                                    guint               n_points,
                                                    double              radius,
                                                    gboolean            paint,
                                                    GError            **error);
/* value NULL removes the value. The value must suit the attribute's definition. */
gboolean            kp_document_set_attribute      (KpDocument         *self,
                                                    const gint64       *ids,
                                                    guint               n_ids,
                                                    gint64              attribute_id,
                                                    const char         *value,
                                                    GError            **error);
/* Sets or clears flags (KP_ANNOTATION_HIDDEN, KP_ANNOTATION_LOCKED). */
gboolean            kp_document_set_flags          (KpDocument         *self,
                                                    const gint64       *ids,
                                                    guint               n_ids,
                                                    KpAnnotationFlags   flags,
                                                    gboolean            set,
                                                    GError            **error);
/* Z-order: to the top or bottom keeping their relative order, or one
 * place up (steps 1) or down (-1) past the nearest object. */
gboolean            kp_document_raise_to_top       (KpDocument         *self,
                                                    const gint64       *ids,
                                                    guint               n_ids,
                                                    GError            **error);
gboolean            kp_document_lower_to_bottom    (KpDocument         *self,
                                                    const gint64       *ids,
                                                    guint               n_ids,
                                                    GError            **error);
/* Suggestions: accept (review ACCEPTED) or reject (deleted; undo brings
 * them back). The _above/_below forms act on every PENDING suggestion
 * with confidence >= / < threshold; they return TRUE (and do nothing,
 * adding no step) when there is none. */
gboolean            kp_document_accept             (KpDocument         *self,
                                                    const gint64       *ids,
                                                    guint               n_ids,
                                                    GError            **error);
gboolean            kp_document_reject             (KpDocument         *self,
                                                    const gint64       *ids,
                                                    guint               n_ids,
                                                    GError            **error);
gboolean            kp_document_accept_above       (KpDocument         *self,
                                                    double              threshold,
                                                    GError            **error);
gboolean            kp_document_reject_below       (KpDocument         *self,
                                                    double              threshold,
                                                    GError            **error);
/* Image-level tags: the tag ids set on this image, ascending (owned by self). */
GArray             *kp_document_get_tags           (KpDocument         *self);
gboolean            kp_document_set_tags           (KpDocument         *self,
                                                    const gint64       *tag_ids,
                                                    guint               n_tag_ids,
                                                    GError            **error);
/* Sets one tag on or off; in a single-select group, setting one unsets the others. */
gboolean            kp_document_toggle_tag         (KpDocument         *self,
                                                    gint64              tag_id,
                                                    gboolean            on,
                                                    GError            **error);
/* Polygon to mask: replaces a POLYGON, ROTATED_BOX or BOX with a MASK of
 * the pixels whose centres it covers, keeping everything else; one step. */
gboolean            kp_document_convert_to_mask    (KpDocument         *self,
                                                    gint64              annotation_id,
                                                    GError            **error);
/* Reads the annotations, tags and undo counts again from the store, for
 * when something else wrote to this image (an import through another
 * KpDocument); emits "changed" with 0 and "tags-changed". */
gboolean            kp_document_reload             (KpDocument         *self,
                                                    GError            **error);
/* The number of steps undo and redo could take. */
guint               kp_document_get_n_undo         (KpDocument         *self);
guint               kp_document_get_n_redo         (KpDocument         *self);

/* Drops in-memory annotations of a label that was deleted from the store
 * (and the undo/redo commands that refer to it), emitting "changed". */
void                kp_document_forget_label       (KpDocument         *self,
                                                    gint64              label_id);

/* Since session 5. */

/* Adds, replaces (matched by id) and removes objects as one undo step,
 * for edits that do several kinds of thing at once (a brush stroke that
 * makes a new mask and paints over others). Added objects are handled as
 * by kp_document_add_many() and ids (may be NULL) receives their ids;
 * an id in both updated and removed is an error. */
gboolean            kp_document_change_many        (KpDocument                 *self,
                                                    const KpAnnotation * const *added,
                                                    guint                       n_added,
                                                    const KpAnnotation * const *updated,
                                                    guint                       n_updated,
                                                    const gint64               *removed,
                                                    guint                       n_removed,
                                                    gint64                     *ids,
                                                    GError                    **error);

/* Like kp_document_reload(), but reads first and changes nothing (and
 * emits nothing) when the store holds what memory does; *changed (may be
 * NULL) says whether it did. For noticing writes by other connections. */
gboolean            kp_document_reload_if_changed  (KpDocument  *self,
                                                    gboolean    *changed,
                                                    GError     **error);

/* What kp_document_new() reads, read on any thread with that thread's own
 * KpStore, then made into a document on the store's thread. */
typedef struct _KpDocumentContents KpDocumentContents;

KpDocumentContents *kp_document_contents_read      (KpStore            *store,
                                                    gint64              media_id,
                                                    GError            **error) G_GNUC_WARN_UNUSED_RESULT;
gint64              kp_document_contents_get_media_id (const KpDocumentContents *contents);
void                kp_document_contents_free      (KpDocumentContents *contents);
/* Takes contents. store is the document's (the caller's thread's) store. */
KpDocument         *kp_document_new_from_contents  (KpStore            *store,
                                                    KpDocumentContents *contents) G_GNUC_WARN_UNUSED_RESULT;

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KpDocumentContents, kp_document_contents_free)

G_END_DECLS
